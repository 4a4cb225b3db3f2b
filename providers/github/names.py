"""GitHub's rules for Actions secret and variable names and values, checked before any request
so that a bad name is a config error naming the var, not a 422 halfway through a sync."""

from __future__ import annotations

from neon_sync.envname import RULE, is_env_name
from neon_sync.errors import ConfigError
from neon_sync.providers.base import Current

MAX_VALUE_BYTES = 48 * 1024  # per secret and per variable
MAX_SECRETS = 100  # per repository and per environment


def canonical(name: str) -> str:
    """The name as GitHub stores it: GitHub compares names case-insensitively and keeps
    them upper-case, so `database_url` in a config is GitHub's DATABASE_URL."""
    return name.upper()


def name_problem(name: str) -> str | None:
    """The GitHub rule `name` breaks, or None if GitHub accepts it (in any case)."""
    if not is_env_name(name):
        return f"GitHub names {RULE}"
    if name.upper().startswith("GITHUB_"):
        return "GitHub reserves names starting with GITHUB_"
    return None


def check_name(name: str, label: str) -> None:
    problem = name_problem(name)
    if problem:
        raise ConfigError(f"{label}: {name!r} is not a valid GitHub name: {problem}")


def check_size(name: str, value: str, label: str) -> None:
    size = len(value.encode("utf-8"))
    if size > MAX_VALUE_BYTES:
        raise ConfigError(
            f"{label}: {name} is {size} bytes; GitHub holds at most 48 KB "
            f"({MAX_VALUE_BYTES} bytes) per secret or variable"
        )


def is_secret(current: Current) -> bool:
    """Whether what GitHub holds under a name is a secret (else a variable)."""
    # read() always sets `secret`; a Current made elsewhere may leave it None, and then
    # only a secret comes without a value.
    return current.value is None if current.secret is None else current.secret
