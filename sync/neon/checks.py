"""Values from Neon's answers that end up inside a secret are checked before use: a password
that is null, empty or not a string, or a host that is not a host name, would otherwise be
written to every target as `:None@` or garbage. A bad value is an error for its branch,
naming the API route it came from."""

from __future__ import annotations

import re

from neon_sync.errors import ApiError
from neon_sync.neon.model import SERVICE

# RFC 1123 labels; Neon's hosts look like ep-cool-darkness-123456.us-east-2.aws.neon.tech.
_HOST = re.compile(
    r"(?=.{1,253}\Z)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
# Branch names are free text in Neon, but control characters never belong in a file name,
# an environment value or a log line.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_PASSWORD = 1024


def _what(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return "an empty string" if not value else "too long"
    return f"a {type(value).__name__}"


def password(value: object, action: str, route: str) -> str:
    """`value` if it is a usable password, else an ApiError naming the route."""
    if isinstance(value, str) and value and len(value) <= MAX_PASSWORD and "\0" not in value:
        return value
    raise ApiError(
        SERVICE,
        action,
        f"{route} answered a password that is {_what(value)}, not a non-empty string; "
        "nothing was written with it (reset the role's password in Neon if this persists)",
    )


def host_problem(host: str) -> str | None:
    """Why `host` cannot go into a connection string, or None if it can."""
    if _HOST.fullmatch(host):
        return None
    return f"endpoint host {host[:80]!r} is not a host name"


def name_problem(name: str) -> str | None:
    """Why a branch name is unusable in a value or a path, or None."""
    if _CONTROL.search(name):
        return "the branch name holds a control character (NUL, newline, ...)"
    return None
