"""The one table of what a connection string can be: formats, endpoint types, pooled or direct,
and the TLS options. The writer (connstr), the config's var parser and the CLI all read it,
so a new format or option value is added here once."""

from __future__ import annotations

from typing import Literal, get_args

Format = Literal["uri", "jdbc", "dsn", "prisma", "sqlalchemy", "npgsql"]
FORMATS: tuple[Format, ...] = get_args(Format)
# One line each, for `--help` and the README.
FORMAT_HELP: dict[Format, str] = {
    "uri": "postgresql://role:password@host/db?sslmode=require (libpq, most drivers)",
    "jdbc": "jdbc:postgresql://host/db?user=..&password=.. (pgJDBC)",
    "dsn": "host=.. dbname=.. user=.. (libpq key/value)",
    "prisma": "the uri, plus pgbouncer=true&connect_timeout=15 when pooled",
    "sqlalchemy": "postgresql+psycopg://... (SQLAlchemy with psycopg 3)",
    "npgsql": "Host=..;Database=..;Username=..;SSL Mode=Require (.NET Npgsql)",
}

FORMAT_HELP_TEXT = "; ".join(f"{name}: {text}" for name, text in FORMAT_HELP.items())

EndpointType = Literal["read_write", "read_only"]
ENDPOINT_TYPES: tuple[EndpointType, ...] = get_args(EndpointType)
UrlKind = Literal["pooled", "direct"]
URL_KINDS: tuple[UrlKind, ...] = get_args(UrlKind)

SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
CHANNEL_BINDINGS = ("disable", "prefer", "require")
# What Neon's own strings carry: TLS without verifying (any client, any CA store), and
# SCRAM channel binding, which stops a TLS man-in-the-middle all the same.
DEFAULT_SSLMODE = "require"
DEFAULT_CHANNEL_BINDING = "require"
# In config, "omit" leaves channel_binding out of the string: clients that pass unknown
# parameters to the server as settings (asyncpg, postgres.js, older pgx) fail on it.
OMIT = "omit"
CHANNEL_BINDING_CHOICES = (*CHANNEL_BINDINGS, OMIT)


def one_of(values: tuple[str, ...]) -> str:
    """ "a, b or c", for messages."""
    return ", ".join(values[:-1]) + f" or {values[-1]}" if len(values) > 1 else values[0]
