"""GitHub's rules for Actions secret and variable names and values, checked before any request
so that a bad name is a config error naming the var, not a 422 halfway through a sync."""

from __future__ import annotations

import re

from neon_sync.errors import ConfigError

MAX_VALUE_BYTES = 48 * 1024  # per secret and per variable
MAX_SECRETS = 100  # per repository and per environment
_ALLOWED = re.compile(r"[A-Za-z0-9_]+")


def name_problem(name: str) -> str | None:
    """The GitHub rule `name` breaks, or None if GitHub accepts it as stored."""
    if not _ALLOWED.fullmatch(name):
        return "GitHub names may contain only letters, digits and _"
    if name[0].isdigit():
        return "GitHub names may not start with a digit"
    if name.upper().startswith("GITHUB_"):
        return "GitHub reserves names starting with GITHUB_"
    if name != name.upper():
        # GitHub matches names case-insensitively and stores them upper-case; a lower-case
        # name here would never compare equal to what GitHub lists, so every run would
        # plan a create. Asking for the stored form keeps plans honest.
        return f"GitHub stores names upper-case; write it as {name.upper()}"
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
