"""Stacks whose runtime these machines cannot run (.NET's Npgsql, Go's pgx, Ruby on Rails,
Prisma's engines): the exact string neon-sync writes, read back by each driver's documented
grammar (tests/grammars.py), arrives with every value as written. Also: every preset writes
the right Neon host, pooled or direct."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from neon_sync.config.presets import PRESETS
from tests.grammars import PGX_KNOWN, npgsql_parse, url_parse
from tests.realpg.conftest import APP_DATABASE, APP_PASSWORD, APP_ROLE, OWNER_PASSWORD, Strings

OWNER = {"user": "neondb_owner", "password": OWNER_PASSWORD, "database": "neondb"}


def test_every_preset_writes_the_neon_host_it_means(strings: Strings) -> None:
    for preset, specs in PRESETS.items():
        for name, spec in specs.items():
            kind = (
                spec
                if isinstance(spec, str)
                else spec.get("url")
                if isinstance(spec, dict)
                else None
            )
            value = strings.written[preset][name]
            if kind not in ("pooled", "direct"):
                continue
            want = strings.pooled_host if kind == "pooled" else strings.direct_host
            assert want in value, (preset, name)
            other = strings.direct_host if kind == "pooled" else strings.pooled_host
            assert other not in value, (preset, name)


def test_dotnet_string_reads_back_in_npgsql_grammar(strings: Strings) -> None:
    text = strings.written["dotnet"]["ConnectionStrings__DefaultConnection"]
    got = npgsql_parse(text)
    assert got == {
        "host": strings.direct_host,
        "database": "neondb",
        "username": "neondb_owner",
        "password": OWNER_PASSWORD,  # holds ; ' " and a space: quoted, " doubled
        "ssl mode": "Require",
        "channel binding": "Require",
    }


@pytest.mark.parametrize("kind", ["POOLED", "DIRECT"])
def test_npgsql_format_carries_escaped_role_and_database(strings: Strings, kind: str) -> None:
    got = npgsql_parse(strings.written["app"][f"NPGSQL_{kind}"])
    assert (got["username"], got["password"], got["database"]) == (
        APP_ROLE,
        APP_PASSWORD,
        APP_DATABASE,
    )


def test_go_pgx_string_has_only_parameters_pgx_consumes(strings: Strings) -> None:
    got = url_parse(strings.written["go-pgx"]["DATABASE_URL"], ("postgres", "postgresql"))
    assert {k: got[k] for k in OWNER} == OWNER
    assert got["host"] == strings.direct_host and got["sslmode"] == "require"
    # Anything else pgx would send to the server as a setting, where it fails the connection.
    assert set(got) <= PGX_KNOWN | {"user", "password", "host", "port", "database"}


def test_prisma_gets_pgbouncer_mode_pooled_and_a_direct_url_for_migrations(
    strings: Strings,
) -> None:
    written = strings.written["prisma"]
    pooled = url_parse(written["DATABASE_URL"], ("postgresql",))
    direct = url_parse(written["DIRECT_URL"], ("postgresql",))
    assert pooled["host"] == strings.pooled_host and direct["host"] == strings.direct_host
    assert (pooled["pgbouncer"], pooled["connect_timeout"]) == ("true", "15")
    assert "pgbouncer" not in direct
    for got in (pooled, direct):
        assert {k: got[k] for k in OWNER} == OWNER


def test_rails_url_reads_the_same_with_form_decoding(strings: Strings) -> None:
    # ActiveRecord decodes the query form-style ("+" is a space): neon-sync encodes "+"
    # as %2B, so both readings agree; the pg gem hands the values to libpq.
    text = strings.written["rails"]["DATABASE_URL"]
    got = url_parse(text, ("postgresql",))
    assert {k: got[k] for k in OWNER} == OWNER and got["host"] == strings.direct_host
    assert dict(parse_qsl(urlsplit(text).query)) == {
        "sslmode": "require", "channel_binding": "require"
    }  # fmt: skip
