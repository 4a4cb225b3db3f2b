"""psql/libpq, psycopg 3, asyncpg and SQLAlchemy open the strings neon-sync wrote, pooled
through PgBouncer and direct to the server, and run the same query."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from urllib.parse import urlsplit

import asyncpg
import psycopg
import pytest
import sqlalchemy

from tests.realpg.conftest import APP_DATABASE, APP_ROLE, OWNER_PASSWORD, Layer, missing

QUERY = (
    "select current_user, current_database(), "
    "coalesce((select ssl from pg_stat_ssl where pid = pg_backend_pid()), false)"
)


def host_of(text: str) -> str:
    if "://" in text:
        return urlsplit(text.removeprefix("jdbc:")).hostname or ""
    return psycopg.conninfo.conninfo_to_dict(text)["host"]  # type: ignore[return-value]


def address(layer: Layer, text: str) -> dict[str, str]:
    """libpq keywords that send the connection to the local server and nothing else. PgBouncer
    offers no SCRAM-SHA-256-PLUS (Neon's proxy, which authenticates in front of its PgBouncer,
    does): through it, channel_binding is relaxed to prefer; direct strings keep theirs."""
    host = host_of(text)
    out = {"hostaddr": layer.pg.address, "port": str(layer.port_for(host))}
    if host == layer.pooled_host and "channel_binding=require" in text:
        out["channel_binding"] = "prefer"
    return out


def connect(layer: Layer, text: str) -> psycopg.Connection[tuple[object, ...]]:
    # make_conninfo is libpq's own merge: the string's keywords, these few overridden.
    return psycopg.connect(psycopg.conninfo.make_conninfo(text, **address(layer, text)))


def expect(layer: Layer, row: tuple[object, ...], user: str, db: str, host: str) -> None:
    assert row[:2] == (user, db)
    # Direct: the server sees TLS. Pooled: PgBouncer's server side is a Unix socket; its
    # client side requires TLS (client_tls_sslmode=require), so having connected is the proof.
    assert row[2] is (host == layer.direct_host)


@pytest.mark.parametrize(
    ("preset", "var", "kind"),
    [
        ("psycopg", "DATABASE_URL", "pooled"),
        ("django", "DATABASE_URL", "direct"),
        ("rails", "DATABASE_URL", "direct"),
        ("prisma", "DIRECT_URL", "direct"),
        ("drizzle", "DATABASE_URL", "pooled"),
        ("drizzle", "DATABASE_URL_UNPOOLED", "direct"),
        ("vercel-postgres", "POSTGRES_URL", "pooled"),
        ("vercel-postgres", "POSTGRES_URL_NON_POOLING", "direct"),
        # No parameters at all: libpq's default sslmode=prefer still negotiates TLS.
        ("vercel-postgres", "POSTGRES_URL_NO_SSL", "pooled"),
    ],
)
def test_psycopg_connects_through_preset_strings(
    layer: Layer, preset: str, var: str, kind: str
) -> None:
    text = layer.written[preset][var]
    host = host_of(text)
    assert host == (layer.pooled_host if kind == "pooled" else layer.direct_host)
    with connect(layer, text) as conn:
        assert conn.pgconn.ssl_in_use
        expect(layer, conn.execute(QUERY).fetchone() or (), "neondb_owner", "neondb", host)


@pytest.mark.parametrize("fmt", ["URI", "DSN"])
@pytest.mark.parametrize("kind", ["POOLED", "DIRECT"])
def test_psycopg_reads_escaped_role_and_database_in_uri_and_dsn(
    layer: Layer, fmt: str, kind: str
) -> None:
    text = layer.written["app"][f"{fmt}_{kind}"]
    with connect(layer, text) as conn:
        row = conn.execute(QUERY).fetchone() or ()
        expect(layer, row, APP_ROLE, APP_DATABASE, host_of(text))


def test_direct_strings_get_channel_binding_as_written(layer: Layer) -> None:
    text = layer.written["app"]["URI_DIRECT"]
    assert "channel_binding=require" in text
    with psycopg.connect(text, hostaddr=layer.pg.address, port=layer.pg.direct_port) as conn:
        assert conn.execute("select current_user").fetchone() == (APP_ROLE,)


def test_both_endpoints_refuse_clients_without_tls(layer: Layer) -> None:
    for port in (layer.pg.direct_port, layer.pg.pooled_port):
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(
                host=layer.pg.address, port=port, user="neondb_owner", dbname="neondb",
                password=OWNER_PASSWORD, sslmode="disable", connect_timeout=5,
            )  # fmt: skip


def psql(layer: Layer, conninfo: str, env: dict[str, str]) -> list[str]:
    binary = shutil.which("psql")
    if binary is None:
        missing("psql (apt-get install postgresql-client)")
    base = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    done = subprocess.run(
        [binary, "-X", "-A", "-t", "-F", "|", "-c", QUERY, *([conninfo] if conninfo else [])],
        env=base | {"PGHOSTADDR": layer.pg.address, "PGCONNECT_TIMEOUT": "10"} | env,
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().split("|")


@pytest.mark.parametrize("var", ["URI_DIRECT", "DSN_DIRECT"])
def test_psql_connects_with_uri_and_dsn(layer: Layer, var: str) -> None:
    # libpq takes PGHOSTADDR and PGPORT from the environment when the string has none.
    text = layer.written["app"][var]
    row = psql(layer, text, {"PGPORT": str(layer.pg.direct_port)})
    assert row == [APP_ROLE, APP_DATABASE, "t"]


def test_psql_connects_with_the_libpq_preset_variables(layer: Layer) -> None:
    pg = layer.written["libpq"]
    assert pg["PGHOST"] == layer.direct_host and pg["PGPORT"] == "5432"
    env = pg | {"PGPORT": str(layer.pg.direct_port)}  # the port alone is swapped
    assert psql(layer, "", env) == ["neondb_owner", "neondb", "t"]


def test_psql_connects_with_django_pg_variables(layer: Layer) -> None:
    pg = {k: v for k, v in layer.written["django"].items() if k.startswith("PG")}
    assert pg["PGHOST"] == layer.direct_host
    env = pg | {"PGPORT": str(layer.pg.direct_port), "PGSSLMODE": "require"}
    assert psql(layer, "", env) == ["neondb_owner", "neondb", "t"]


def test_asyncpg_connects_with_its_preset(layer: Layer) -> None:
    text = layer.written["asyncpg"]["DATABASE_URL"]
    assert "channel_binding" not in text and host_of(text) == layer.pooled_host

    async def run() -> tuple[object, ...]:
        # Explicit host and port win over the dsn's; everything else comes from the dsn.
        conn = await asyncpg.connect(text, host=layer.pg.address, port=layer.pg.pooled_port)
        try:
            assert conn._transport.get_extra_info("ssl_object") is not None
            return tuple(await conn.fetchrow(QUERY))
        finally:
            await conn.close()

    expect(layer, asyncio.run(run()), "neondb_owner", "neondb", layer.pooled_host)


@pytest.mark.parametrize(
    ("preset", "var"), [("sqlalchemy", "DATABASE_URL"), ("app", "SQLALCHEMY_DIRECT")]
)
def test_sqlalchemy_connects_with_its_url(layer: Layer, preset: str, var: str) -> None:
    text = layer.written[preset][var]
    assert text.startswith("postgresql+psycopg://")
    engine = sqlalchemy.create_engine(
        text, connect_args=address(layer, text), poolclass=sqlalchemy.pool.NullPool
    )
    with engine.connect() as conn:
        row = tuple(conn.execute(sqlalchemy.text(QUERY)).one())
    user, db = ("neondb_owner", "neondb") if preset == "sqlalchemy" else (APP_ROLE, APP_DATABASE)
    expect(layer, row, user, db, host_of(text.replace("+psycopg", "")))
