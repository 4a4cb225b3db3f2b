"""The two key=value connection-string grammars: libpq's dsn (`host=h dbname=d ...`) and
.NET's DbConnectionStringBuilder, which Npgsql reads (`Host=h;Database=d;...`). Only quoting
and spelling live here; connstr decides which pairs to write."""

from __future__ import annotations

import re
from collections.abc import Iterable

# The five connection keywords, in connstr's order: host, port, database, user, password.
DSN_KEYS = ("host", "port", "dbname", "user", "password")
NPGSQL_KEYS = ("Host", "Port", "Database", "Username", "Password")

# libpq needs quotes around a dsn value that is empty or holds isspace(), ' or \. Which bytes
# isspace() matches depends on the C locale, so only a known-plain ASCII set goes unquoted;
# "=" is quoted too, so options='endpoint=ep-...' reads as in Neon's docs.
_DSN_PLAIN = re.compile(r"[A-Za-z0-9_.:/@+~,*-]+")
# Npgsql's keywords for what the other formats call sslmode and channel_binding, and its
# spelling of their values (case-insensitive there; written as its docs do).
_NPGSQL_OPTIONS = {
    "sslmode": "SSL Mode",
    "channel_binding": "Channel Binding",
    "options": "Options",
}
_NPGSQL_VALUES = {"verify-ca": "VerifyCA", "verify-full": "VerifyFull"}
_NPGSQL_PLAIN = re.compile(r"[^;'\"\s\x00-\x1f\x7f-\x9f]+( [^;'\"\s\x00-\x1f\x7f-\x9f]+)*")


def dsn(pairs: Iterable[tuple[str, str]]) -> str:
    return " ".join(f"{key}={dsn_value(value)}" for key, value in pairs)


def dsn_value(value: str) -> str:
    if _DSN_PLAIN.fullmatch(value):
        return value
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def npgsql(pairs: Iterable[tuple[str, str]]) -> str:
    out = []
    for key, value in pairs:
        spelled = value
        if key in ("sslmode", "channel_binding"):
            spelled = _NPGSQL_VALUES.get(value, value.capitalize())
        out.append(f"{_NPGSQL_OPTIONS.get(key, key)}={npgsql_value(spelled)}")
    return ";".join(out)


def npgsql_value(value: str) -> str:
    # The DbConnectionStringBuilder grammar: a value holding ; ' " control characters or
    # whitespace other than single inner spaces is quoted; inside double quotes " is doubled.
    if _NPGSQL_PLAIN.fullmatch(value):
        return value
    return '"' + value.replace('"', '""') + '"'
