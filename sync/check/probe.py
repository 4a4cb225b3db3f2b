"""Connect through one string with psycopg 3, run `select 1`, and say what happened: the round
trip, server and TLS versions, or the cause of a failure and what to do about it."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from neon_sync.check.target import Target
from neon_sync.errors import ConfigError
from neon_sync.secret import remember, scrub

DEFAULT_TIMEOUT = 10
INSTALL_HINT = "`check` connects with psycopg 3: pip install 'neon-sync[check]'"


@dataclass(frozen=True)
class Result:
    ok: bool
    pooled: bool
    host: str
    ms: int | None = None
    server_version: str | None = None
    tls: str | None = None
    error: str | None = None  # libpq's message, scrubbed
    cause: str | None = None  # what it means and what to do

    def to_json(self) -> dict[str, Any]:
        status = "ok" if self.ok else "failed" if self.error else "skipped"
        return {
            "status": status,
            "ok": self.ok,
            "kind": "pooled" if self.pooled else "direct",
            "host": self.host,
            "ms": self.ms,
            "server_version": self.server_version,
            "tls": self.tls,
            "error": self.error,
            "cause": self.cause,
        }


def require_driver() -> None:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise ConfigError(INSTALL_HINT) from None


def probe(
    target: Target,
    resolve: Mapping[str, tuple[str, int]] | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    no_channel_binding: frozenset[str] = frozenset(),
) -> Result:
    """Connect to `target` (through `resolve`'s address for its host, if listed). Hosts in
    `no_channel_binding` are stand-ins that cannot offer it (a local PgBouncer, for the
    demo): there channel_binding=require is relaxed to prefer."""
    import psycopg

    params = dict(target.params)
    if target.host in no_channel_binding and params.get("channel_binding") == "require":
        params["channel_binding"] = "prefer"
    if params.get("password"):
        remember(params["password"])
    params.setdefault("connect_timeout", str(timeout))
    where = (resolve or {}).get(target.host)
    if where is not None:
        # Only the address changes: the host name still goes out as SNI and in messages.
        params["hostaddr"], params["port"] = where[0], str(where[1])
    start = time.monotonic()
    try:
        # One conninfo string: libpq reads every keyword, including ones psycopg's
        # signature does not list.
        conninfo = psycopg.conninfo.make_conninfo("", **params)
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute("select 1").fetchone()
            ms = round((time.monotonic() - start) * 1000)
            version = _version(conn.info.server_version)
            tls = tls_version(conn) if conn.pgconn.ssl_in_use else None
    except psycopg.Error as exc:
        message = scrub(" ".join(str(exc).split()) or type(exc).__name__)
        return Result(False, target.pooled, target.host, error=message, cause=explain(str(exc)))
    return Result(True, target.pooled, target.host, ms, version, tls)


def _version(number: int) -> str:
    major, minor = divmod(number, 10000)
    return f"{major}.{minor}" if major >= 10 else f"{major}.{minor // 100}.{minor % 100}"


def tls_version(conn: Any) -> str:
    """The TLS protocol libpq negotiated ("TLSv1.3"); "TLS" when it cannot be read."""
    try:
        attribute = _ssl_attribute()
        value: bytes | None = attribute(conn.pgconn.pgconn_ptr, b"protocol")
    except (OSError, AttributeError):
        return "TLS"
    return value.decode() if value else "TLS"


def _ssl_attribute() -> Any:
    # psycopg exposes no PQsslAttribute; call it in the libpq psycopg itself loaded.
    import ctypes
    import ctypes.util
    from pathlib import Path

    import psycopg

    libs = sorted(Path(psycopg.__file__).parent.parent.glob("psycopg_binary.libs/libpq*.so*"))
    path = str(libs[0]) if libs else ctypes.util.find_library("pq")
    if path is None:
        raise OSError("no libpq")
    function = ctypes.CDLL(path).PQsslAttribute
    function.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    function.restype = ctypes.c_char_p
    return function


# libpq's and Neon's messages -> what the user should do. First match wins.
_CAUSES: list[tuple[str, str]] = [
    (
        r"password authentication failed|SASL authentication failed",
        "wrong password: was it reset in Neon? `neon-sync sync` writes the current one "
        "(`neon-sync rotate` sets a new one everywhere)",
    ),
    (
        r"Endpoint ID is not specified|SNI",
        "the client does not send SNI: set `sni_workaround: true` on the var or under "
        "`neon:` (it adds options=endpoint%3D<endpoint-id>)",
    ),
    (
        r"compute .*(starting|suspended)|Couldn't connect to compute|endpoint is disabled"
        r"|database system is starting up|timeout expired",
        "the compute is suspended or still starting: retry in a few seconds",
    ),
    (
        r"could not translate host name|Name or service not known|nodename nor servname",
        "DNS: the host name does not resolve; is the endpoint deleted? "
        "`neon-sync sync` writes the current hosts",
    ),
    (
        r"no encryption|connection is insecure|SSL off|sslmode",
        "the server requires TLS: set `sslmode: require`",
    ),
    (
        r"channel binding",
        "the server or pooler offered no channel binding: set `channel_binding: prefer` "
        "or `omit` for this var",
    ),
    (
        r"Connection refused",
        "nothing listens there: the server is stopped, or the address or port is wrong",
    ),
    (r"role .* does not exist", "the role does not exist on this branch: check `role:`"),
    (
        r"database .* does not exist",
        "the database does not exist on this branch: check `database:`",
    ),
]


def explain(message: str) -> str:
    for pattern, cause in _CAUSES:
        if re.search(pattern, message, re.IGNORECASE):
            return cause
    return "see the error above"
