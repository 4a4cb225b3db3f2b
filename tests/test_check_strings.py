"""`check` reads back every format neon-sync writes, and turns libpq's and Neon's failure
messages into what to do. No server needed: tests/realpg connects for real."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

import pytest

from neon_sync.check.probe import explain
from neon_sync.check.target import looks_like_connection, read
from neon_sync.neon.connstr import ConnectionInfo, UrlOptions, build
from neon_sync.neon.formats import FORMATS, Format
from neon_sync.secret import Secret
from tests.conftest import Result

HOST = "ep-holy-night-ad39jkqj.c-2.us-east-2.aws.neon.tech"
PASSWORD = "p@ss:w/rd?#%&+ x;'\""
INFO = ConnectionInfo(
    HOST, "ep-holy-night-ad39jkqj", "app user@team", Secret(PASSWORD), "shop data"
)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("pooled", [False, True])
def test_check_reads_back_every_format_it_writes(fmt: Format, pooled: bool) -> None:
    text = build(INFO, UrlOptions(format=fmt, pooled=pooled, sni_workaround=True)).reveal()
    assert looks_like_connection(text)
    target = read(text)
    assert target.format == fmt if fmt != "prisma" else target.format == "uri"
    assert target.pooled is pooled
    params = target.params
    assert (params["user"], params["password"], params["dbname"]) == (
        "app user@team",
        PASSWORD,
        "shop data",
    )
    assert (params["sslmode"], params["channel_binding"]) == ("require", "require")
    assert params["options"] == "endpoint=ep-holy-night-ad39jkqj"
    assert "pgbouncer" not in params  # Prisma's, which libpq would refuse


def test_values_that_are_not_connection_strings_are_left_alone() -> None:
    for value in (HOST, "5432", "neondb", "require", "{}"):
        assert not looks_like_connection(value)


@pytest.mark.parametrize(
    ("message", "advice"),
    [
        ('FATAL: password authentication failed for user "neondb_owner"', "neon-sync sync"),
        (
            "ERROR: Endpoint ID is not specified. Either please upgrade the postgres client "
            "library (libpq) for SNI support or pass the endpoint ID (first part of the domain "
            "name) as a parameter: '?options=endpoint%3D<endpoint-id>'.",
            "sni_workaround: true",
        ),
        ("ERROR: Couldn't connect to compute node", "retry"),
        ("connection to server failed: timeout expired", "retry"),
        ('could not translate host name "ep-x.neon.tech" to address', "DNS"),
        ("FATAL: connection is insecure (try using `sslmode=require`)", "sslmode: require"),
        ("channel binding is required, but server did not offer an authentication method",
         "channel_binding: prefer"),
        ('FATAL: database "nope" does not exist', "database:"),
    ],
)  # fmt: skip
def test_failures_get_the_cause_and_what_to_do(message: str, advice: str) -> None:
    assert advice in explain(message)


def test_check_without_psycopg_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, run_cli: Callable[..., Result]
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    result = run_cli("check", "--url-from-env", "DATABASE_URL", env={"DATABASE_URL": "x"})
    assert result.exit_code == 2
    assert "pip install 'neon-sync[check]'" in result.stderr


def test_resolve_needs_host_address_and_port(run_cli: Callable[..., Result]) -> None:
    result = run_cli("check", "--url-from-env", "X", "--resolve", "ep-x.neon.tech=127.0.0.1")
    assert result.exit_code == 2
    assert "expected HOST=ADDRESS:PORT" in result.stderr


def test_a_string_without_credentials_is_reported_skipped_not_failed(
    run_cli: Callable[..., Result],
) -> None:
    url = f"jdbc:postgresql://{HOST}/neondb?sslmode=require"
    result = run_cli("check", "--url-from-env", "JDBC_DATABASE_URL", "--json",
                     env={"JDBC_DATABASE_URL": url})  # fmt: skip
    assert result.exit_code == 0, result.output
    (only,) = json.loads(result.stdout)["checks"]
    assert (only["status"], only["format"], only["kind"]) == ("skipped", "jdbc", "direct")
