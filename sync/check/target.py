"""A written connection string, in any format neon-sync writes, read back into the libpq
parameters `check` connects with. Reading what was written (rather than re-deriving it from
the config) is the point: check proves the bytes a user's code will see."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from neon_sync.errors import ConfigError
from neon_sync.neon.connstr import POOLER_SUFFIX

# Parameters other clients read that libpq does not know: dropped, not failed on (Prisma's
# pgbouncer/schema, pgJDBC's spellings are translated below).
_NOT_LIBPQ = frozenset(
    {"pgbouncer", "schema", "connection_limit", "pool_timeout", "socket_timeout",
     "statement_cache_size", "sslaccept", "ssl"}
)  # fmt: skip
_JDBC_NAMES = {
    "channelBinding": "channel_binding",
    "connectTimeout": "connect_timeout",
    "ApplicationName": "application_name",
}
_NPGSQL_NAMES = {
    "host": "host",
    "server": "host",
    "port": "port",
    "database": "dbname",
    "db": "dbname",
    "username": "user",
    "user id": "user",
    "userid": "user",
    "user name": "user",
    "password": "password",
    "ssl mode": "sslmode",
    "sslmode": "sslmode",
    "channel binding": "channel_binding",
    "options": "options",
    "timeout": "connect_timeout",
}
_NPGSQL_PAIR = re.compile(
    r"\s*(?P<key>[^=;]+?)\s*=\s*(?:\"(?P<dq>(?:[^\"]|\"\")*)\"|'(?P<sq>(?:[^']|'')*)'"
    r"|(?P<plain>[^;]*?))\s*(?:;|$)"
)


@dataclass(frozen=True)
class Target:
    """Where a string leads. `params` hold the password: never print them."""

    format: str
    params: dict[str, str] = field(repr=False)

    @property
    def host(self) -> str:
        return self.params.get("host", "")

    @property
    def pooled(self) -> bool:
        return self.host.partition(".")[0].lower().endswith(POOLER_SUFFIX)

    @property
    def has_password(self) -> bool:
        return bool(self.params.get("password"))


def looks_like_connection(text: str) -> bool:
    """Whether a variable's value is a connection string at all (not PGHOST, a port, ...)."""
    head = text.lstrip()[:40].lower()
    return head.startswith(
        ("postgres://", "postgresql://", "postgresql+", "jdbc:postgresql://")
    ) or bool(re.match(r"(server|host)\s*=", head))


def read(text: str) -> Target:
    """The libpq parameters of `text`; a ConfigError (never echoing the text) if unreadable."""
    stripped = text.strip()
    lower = stripped.lower()
    if lower.startswith("jdbc:postgresql://"):
        return Target("jdbc", _jdbc(stripped))
    if lower.startswith(("postgres://", "postgresql://")):
        return Target("uri", _url(stripped))
    if lower.startswith("postgresql+"):
        return Target("sqlalchemy", _url("postgresql" + stripped[stripped.index(":") :]))
    # A host name holds neither ";" nor a space: what follows the first one tells the two
    # key=value grammars apart (Npgsql's "Host=h;..." from libpq's "host=h dbname=...").
    if re.match(r"(host|server)\s*=\s*[^;\s]*\s*;", lower):
        return Target("npgsql", _npgsql(stripped))
    if re.match(r"host\s*=", lower):
        return Target("dsn", _dsn(stripped))
    raise ConfigError("the value is not a connection string neon-sync can read")


def _url(text: str) -> dict[str, str]:
    parts = urlsplit(text)
    out = {
        "host": parts.hostname or "",
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "dbname": unquote(parts.path.removeprefix("/")),
    }
    if parts.port:
        out["port"] = str(parts.port)
    # libpq percent-decodes query values and keeps "+" as a plus.
    for key, value in parse_qsl(parts.query.replace("+", "%2B"), keep_blank_values=True):
        if key not in _NOT_LIBPQ:
            out[key] = value
    return {key: value for key, value in out.items() if value}


def _jdbc(text: str) -> dict[str, str]:
    out = _url(text.removeprefix("jdbc:"))
    return {_JDBC_NAMES.get(key, key): value for key, value in out.items()}


def _npgsql(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for match in _NPGSQL_PAIR.finditer(text):
        key = " ".join(match["key"].split()).lower()
        if match["dq"] is not None:
            value = match["dq"].replace('""', '"')
        elif match["sq"] is not None:
            value = match["sq"].replace("''", "'")
        else:
            value = match["plain"]
        name = _NPGSQL_NAMES.get(key)
        if name in ("sslmode", "channel_binding"):
            value = {"verifyca": "verify-ca", "verifyfull": "verify-full"}.get(
                value.lower(), value.lower()
            )
        if name:
            out[name] = value
    return out


def _dsn(text: str) -> dict[str, str]:
    from psycopg.conninfo import conninfo_to_dict

    try:
        parsed = conninfo_to_dict(text)
    except Exception:
        raise ConfigError("the key=value connection string does not parse") from None
    return {key: str(value) for key, value in parsed.items() if value is not None}
