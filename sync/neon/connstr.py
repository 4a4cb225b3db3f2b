"""Connection strings for one Neon endpoint, role and database, in the forms clients expect.

    uri     postgresql://ROLE:PASSWORD@HOST/DB?sslmode=require&channel_binding=require
            (byte-for-byte what Neon's GET /projects/{id}/connection_uri returns by default)
    jdbc    jdbc:postgresql://HOST/DB?user=ROLE&password=PASSWORD&sslmode=require&channelBinding=require
    dsn     host=HOST dbname=DB user=ROLE password=PASSWORD sslmode=require channel_binding=require
    prisma  the uri, plus pgbouncer=true&connect_timeout=15 when pooled
    sqlalchemy  the uri with the scheme postgresql+psycopg (SQLAlchemy's psycopg 3 dialect)
    npgsql  Host=HOST;Database=DB;Username=ROLE;Password=PASSWORD;SSL Mode=Require;...

The formats and option values come from neon.formats, the one table the config and CLI read.

Every string comes back as a Secret whose masked form keeps what identifies the target
(role, first host label, database) and never depends on the password.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import quote

from neon_sync.errors import ConfigError
from neon_sync.neon import keyvalue
from neon_sync.neon.formats import (
    CHANNEL_BINDINGS,
    DEFAULT_CHANNEL_BINDING,
    DEFAULT_SSLMODE,
    FORMATS,
    SSLMODES,
    Format,
)
from neon_sync.secret import MASK, Secret, remember

__all__ = ["CHANNEL_BINDINGS", "FORMATS", "SSLMODES", "ConnectionInfo", "Format", "UrlOptions"]

DEFAULT_PORT = 5432
POOLER_SUFFIX = "-pooler"
# Prisma behind PgBouncer (transaction mode) must not use prepared statements, and a
# suspended compute can take a few seconds to wake: Neon's documented settings.
PRISMA_POOLED = (("pgbouncer", "true"), ("connect_timeout", "15"))

_HOSTNAME = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?")
_PARAM_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class ConnectionInfo:
    """Where and as whom to connect. `host` is the endpoint's direct (unpooled) host."""

    host: str
    endpoint_id: str
    role: str
    password: Secret
    database: str
    port: int = DEFAULT_PORT

    def __post_init__(self) -> None:
        _check_host(self.host)
        if not self.endpoint_id:
            raise ConfigError("connection: the endpoint id is empty")
        # An empty role or database would not fail loudly: libpq falls back to the OS user
        # and to a database named after the role.
        if not self.role:
            raise ConfigError("connection: the role name is empty")
        if not self.database:
            raise ConfigError("connection: the database name is empty")
        for what, value in (
            ("role name", self.role),
            ("database name", self.database),
            ("password", self.password.reveal()),
            ("endpoint id", self.endpoint_id),
        ):
            _check_no_nul(f"connection: the {what}", value)
        if not 0 < self.port < 65536:
            raise ConfigError(f"connection: port {self.port} is out of range 1-65535")


@dataclass(frozen=True)
class UrlOptions:
    """How to write the string. `params` are extra query parameters (keyword/value pairs in
    dsn), appended last in their given order; `bare` drops every option and parameter
    (jdbc keeps user and password, which it cannot carry elsewhere)."""

    pooled: bool = False
    format: Format = "uri"
    sslmode: str = DEFAULT_SSLMODE
    channel_binding: str | None = DEFAULT_CHANNEL_BINDING  # None omits it: some clients fail on it
    sni_workaround: bool = False  # options=endpoint%3D<id>, for clients without SNI
    params: Mapping[str, str] = field(default_factory=dict, hash=False)
    bare: bool = False
    # False leaves user and password out, for stacks that take them separately (JDBC's
    # JDBC_DATABASE_USERNAME/PASSWORD, Spring's datasource properties).
    credentials: bool = True

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ConfigError(f"format {self.format!r} is not one of {', '.join(FORMATS)}")
        if self.sslmode not in SSLMODES:
            raise ConfigError(f"sslmode {self.sslmode!r} is not one of {', '.join(SSLMODES)}")
        if self.channel_binding is not None and self.channel_binding not in CHANNEL_BINDINGS:
            raise ConfigError(
                f"channel_binding {self.channel_binding!r} is not one of "
                f"{', '.join(CHANNEL_BINDINGS)} (or unset to omit it)"
            )
        # Channel binding is a property of the TLS session: without TLS libpq can only fail
        # at connect time, so say so now.
        if self.sslmode == "disable" and self.channel_binding == "require" and not self.bare:
            raise ConfigError(
                "channel_binding=require needs TLS but sslmode is disable: "
                "unset channel_binding or choose another sslmode"
            )
        for key, value in self.params.items():
            if not _PARAM_KEY.fullmatch(key):
                raise ConfigError(f"connection parameter name {key!r} is not a plain identifier")
            _check_no_nul(f"connection parameter {key}", value)
        # A private copy behind a read-only view keeps the dataclass really frozen.
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))


def pooled_host(host: str) -> str:
    """The PgBouncer host of an endpoint host: "-pooler" after the endpoint id in the first
    DNS label, whatever the number of labels. A host that is already pooled is returned as is."""
    _check_host(host)
    if _is_ip(host):
        raise ConfigError("a pooled host cannot be derived from an IP address; use a host name")
    label, dot, rest = host.partition(".")
    if label.lower().endswith(POOLER_SUFFIX):
        return host
    return f"{label}{POOLER_SUFFIX}{dot}{rest}"


def build(info: ConnectionInfo, options: UrlOptions) -> Secret:
    """The connection string, as a Secret whose masked form is `masked(info, options)`."""
    return Secret(_render(info, options, mask=False), masked=masked(info, options))


def masked(info: ConnectionInfo, options: UrlOptions) -> str:
    """The display form of `build(info, options)`: password replaced by ****, host cut to its
    first label, options left out. It is computed without reading the password (only whether
    there is one), so it cannot leak it in any encoding."""
    return _render(info, options, mask=True)


def parts(info: ConnectionInfo, options: UrlOptions) -> dict[str, Secret]:
    """The libpq environment variables (PGHOST ... PGSSLMODE) for the same connection.
    Only PGPASSWORD is masked; only `pooled` and `sslmode` of the options apply."""
    host = _host(info, options)
    _remember(info.password.reveal())
    # A Secret given its own masked form is not added to the scrub list: right for these,
    # or every later "neondb" or "5432" in the output would be masked.
    return {
        "PGHOST": Secret(host, masked=host),
        "PGPORT": Secret(str(info.port), masked=str(info.port)),
        "PGUSER": Secret(info.role, masked=info.role),
        "PGPASSWORD": Secret(info.password.reveal(), masked=MASK),
        "PGDATABASE": Secret(info.database, masked=info.database),
        "PGSSLMODE": Secret(options.sslmode, masked=options.sslmode),
    }


def _render(info: ConnectionInfo, options: UrlOptions, *, mask: bool) -> str:
    host = _host(info, options)
    if mask:
        host = _short_host(host)
    password = info.password.reveal() if options.credentials else ""
    if not mask:
        _remember(password)
    if options.format == "jdbc":
        return _jdbc(info, options, host, password, mask)
    if options.format == "dsn":
        return _dsn(info, options, host, password, mask)
    if options.format == "npgsql":
        return _npgsql(info, options, host, password, mask)
    return _uri(info, options, host, password, mask)


def _uri(info: ConnectionInfo, options: UrlOptions, host: str, password: str, mask: bool) -> str:
    userinfo = ""
    if options.credentials:
        userinfo = _enc(info.role)
        if password:
            userinfo += ":" + (MASK if mask else _enc(password))
        userinfo += "@"
    scheme = "postgresql+psycopg" if options.format == "sqlalchemy" else "postgresql"
    text = f"{scheme}://{userinfo}{_netloc(host, info.port)}/{_enc(info.database)}"
    if mask:
        return text
    return text + _query(_option_pairs(info, options, fixed=()))


def _jdbc(info: ConnectionInfo, options: UrlOptions, host: str, password: str, mask: bool) -> str:
    # pgJDBC takes no credentials in the authority part: they go in the query, where it
    # percent-decodes every value (URLDecoder, so "+" must be encoded too: quote() does).
    head = f"jdbc:postgresql://{_netloc(host, info.port)}/{_enc(info.database)}"
    if mask:
        if not options.credentials:
            return head
        return head + f"?user={_enc(info.role)}" + (f"&password={MASK}" if password else "")
    creds = [("user", info.role)] if options.credentials else []
    creds += [("password", password)] if password else []
    return head + _query(creds + _option_pairs(info, options, fixed=("user", "password")))


def _dsn(info: ConnectionInfo, options: UrlOptions, host: str, password: str, mask: bool) -> str:
    return keyvalue.dsn(_keyword_pairs(info, options, host, password, mask, keyvalue.DSN_KEYS))


def _npgsql(info: ConnectionInfo, options: UrlOptions, host: str, password: str, mask: bool) -> str:
    names = keyvalue.NPGSQL_KEYS
    return keyvalue.npgsql(_keyword_pairs(info, options, host, password, mask, names))


def _keyword_pairs(
    info: ConnectionInfo,
    options: UrlOptions,
    host: str,
    password: str,
    mask: bool,
    names: tuple[str, str, str, str, str],
) -> list[tuple[str, str]]:
    """The key=value formats' pairs: host, port (unless 5432), database, user, password,
    under the format's own `names` for those five; then the options (not in a masked form)."""
    pairs = [(names[0], host)]
    if info.port != DEFAULT_PORT:
        pairs.append((names[1], str(info.port)))
    pairs.append((names[2], info.database))
    if options.credentials:
        pairs.append((names[3], info.role))
    if password:
        pairs.append((names[4], MASK if mask else password))
    if not mask:
        pairs += _option_pairs(info, options, fixed=tuple(key for key, _ in pairs))
    return pairs


def _option_pairs(
    info: ConnectionInfo, options: UrlOptions, fixed: tuple[str, ...]
) -> list[tuple[str, str]]:
    """Query parameters in their fixed order: sslmode, channel binding, sni, prisma's, params."""
    if options.bare:
        return []
    pairs = [("sslmode", options.sslmode)]
    if options.channel_binding is not None:
        key = "channelBinding" if options.format == "jdbc" else "channel_binding"
        pairs.append((key, options.channel_binding))
    if options.sni_workaround:
        pairs.append(("options", f"endpoint={info.endpoint_id}"))
    if options.format == "prisma" and options.pooled:
        pairs += PRISMA_POOLED
    # A repeated keyword is ambiguous (libpq keeps the last, others the first): refuse it.
    taken = set(fixed) | {key for key, _ in pairs}
    for key in options.params:
        if key in taken:
            raise ConfigError(
                f"connection parameter {key!r} is already set by neon-sync for the "
                f"{options.format} format; use the dedicated option instead"
            )
    return pairs + list(options.params.items())


def _host(info: ConnectionInfo, options: UrlOptions) -> str:
    return pooled_host(info.host) if options.pooled else info.host


def _short_host(host: str) -> str:
    if _is_ip(host):
        return host
    label, dot, _ = host.partition(".")
    return label + ("..." if dot else "")


def _netloc(host: str, port: int) -> str:
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    # Neon's own strings carry no port: leave out the default.
    return host if port == DEFAULT_PORT else f"{host}:{port}"


def _query(pairs: list[tuple[str, str]]) -> str:
    if not pairs:
        return ""
    return "?" + "&".join(f"{_enc(key)}={_enc(value)}" for key, value in pairs)


def _enc(value: str) -> str:
    # safe="" so that / @ : ? # & = + are all encoded wherever the value lands.
    return quote(value, safe="")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _remember(password: str) -> None:
    # Scrubbing must know the password in every form a string here carries it: as typed and
    # percent-encoded (remember() adds both, and may have already if the Secret was made
    # with the default mask), dsn-quoted, which differs when it holds ' or \, and
    # npgsql-quoted, which differs when it holds " or ;.
    if password:
        remember(password)
        remember(keyvalue.dsn_value(password))
        remember(keyvalue.npgsql_value(password))


def _check_host(host: str) -> None:
    # The host is not echoed: Neon's API marks hosts as sensitive.
    if not (_HOSTNAME.fullmatch(host) or _is_ip(host)):
        raise ConfigError("connection: the host is empty or not a valid host name or IP address")


def _check_no_nul(what: str, value: str) -> None:
    # Postgres clients pass these as C strings; libpq refuses %00 outright.
    if "\x00" in value:
        raise ConfigError(f"{what} contains a NUL character, which no Postgres client accepts")
