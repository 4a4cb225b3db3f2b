"""`neon-sync check` against the real server: each string ok with its round trip, server and
TLS versions; a wrong password, a stopped server, a client without TLS and a pooler without
channel binding each named with what to do. The password never appears in the output."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from neon_sync.emulators.postgres import local_postgres, stop_server
from tests.conftest import Result
from tests.realpg.conftest import OWNER_PASSWORD, Layer, require_or_skip

ENCODED = "p%40ss"


def resolve_args(layer: Layer) -> list[str]:
    return [f"--resolve={host}={addr}:{port}" for host, (addr, port) in layer.resolve().items()]


def config(layer: Layer, tmp_path: Path, vars_: str) -> Path:
    path = tmp_path / "neon-sync.yaml"
    path.write_text(
        "version: 1\nneon:\n  project_id: ${NEON_PROJECT_ID}\n"
        "targets:\n  local:\n    provider: dotenv\n    path: .env\n"
        "branches:\n  - match: main\n    sync:\n      - target: local\n" + vars_
    )
    return path


def assert_no_password(result: Result) -> None:
    for form in (OWNER_PASSWORD, ENCODED, "p@ss"):
        assert form not in result.output


def test_check_reports_every_string_of_the_config_ok(
    layer: Layer, tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    # Pooled with channel_binding prefer: PgBouncer offers none (Neon's proxy does).
    path = config(
        layer, tmp_path,
        "        preset: jdbc\n        vars:\n"
        "          DATABASE_URL: {url: pooled, channel_binding: prefer}\n"
        "          DIRECT_URL: direct\n          DOTNET: {url: direct, format: npgsql}\n",
    )  # fmt: skip
    args = ["check", "-c", str(path), "--branch", "main", "--json", *resolve_args(layer)]
    result = run_cli(*args, env=layer.env)
    assert result.exit_code == 0, result.output
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert set(checks) == {"DATABASE_URL", "DIRECT_URL", "DOTNET", "JDBC_DATABASE_URL"}
    for name, c in checks.items():
        assert c["ok"] and c["status"] == "ok", (name, c)
        assert c["kind"] == ("pooled" if name == "DATABASE_URL" else "direct")
        assert re.fullmatch(r"1[5-9]\.\d+|\d\d\.\d+", c["server_version"])
        assert c["tls"].startswith("TLSv1.")
        assert isinstance(c["ms"], int)
    assert checks["JDBC_DATABASE_URL"]["format"] == "jdbc"
    assert checks["DOTNET"]["format"] == "npgsql"
    assert_no_password(result)


def test_check_names_a_wrong_password_and_what_to_do(
    layer: Layer, run_cli: Callable[..., Result]
) -> None:
    good = layer.written["django"]["DATABASE_URL"]
    wrong = good.replace(ENCODED, "n0t-th3-p4ss", 1)
    assert wrong != good
    result = run_cli("check", "--url-from-env", "DATABASE_URL", *resolve_args(layer),
                     env={"DATABASE_URL": wrong})  # fmt: skip
    assert result.exit_code == 1
    assert "FAILED" in result.stdout and "password authentication failed" in result.stdout
    assert "wrong password" in result.stdout and "neon-sync sync" in result.stdout
    assert "n0t-th3-p4ss" not in result.output
    assert_no_password(result)


def test_check_says_when_tls_is_required(layer: Layer, run_cli: Callable[..., Result]) -> None:
    plain = layer.written["django"]["DATABASE_URL"].replace("sslmode=require", "sslmode=disable")
    plain = plain.replace("&channel_binding=require", "")
    result = run_cli("check", "--url-from-env", "DATABASE_URL", *resolve_args(layer), "--json",
                     env={"DATABASE_URL": plain})  # fmt: skip
    assert result.exit_code == 1
    (only,) = json.loads(result.stdout)["checks"]
    assert not only["ok"] and "sslmode: require" in only["cause"]
    assert_no_password(result)


def test_check_says_the_pooler_offers_no_channel_binding(
    layer: Layer, run_cli: Callable[..., Result]
) -> None:
    pooled = layer.written["psycopg"]["DATABASE_URL"]
    assert "channel_binding=require" in pooled
    result = run_cli("check", "--url-from-env", "DATABASE_URL", *resolve_args(layer), "--json",
                     env={"DATABASE_URL": pooled})  # fmt: skip
    (only,) = json.loads(result.stdout)["checks"]
    assert (only["ok"], only["kind"]) == (False, "pooled")
    assert "channel_binding: prefer" in only["cause"]


def test_check_reports_a_stopped_server(
    layer: Layer, tmp_path: Path, run_cli: Callable[..., Result]
) -> None:
    # A server of its own, so stopping it leaves the session's alone.
    text = layer.written["rails"]["DATABASE_URL"]
    with local_postgres({"neondb_owner": OWNER_PASSWORD}, {"neondb": "neondb_owner"}) as pg:
        args = ["check", "--url-from-env", "DATABASE_URL", "--json",
                f"--resolve={layer.direct_host}={pg.address}:{pg.direct_port}"]  # fmt: skip
        before = run_cli(*args, env={"DATABASE_URL": text})
        assert before.exit_code == 0, before.output
        stop_server(pg)
        after = run_cli(*args, env={"DATABASE_URL": text})
    assert after.exit_code == 1
    (only,) = json.loads(after.stdout)["checks"]
    assert not only["ok"] and "Connection refused" in only["error"]
    assert "server is stopped" in only["cause"]
    assert_no_password(after)


def test_demo_postgres_ends_with_check_connecting_through_every_string(
    run_cli: Callable[..., Result],
) -> None:
    require_or_skip()
    result = run_cli("demo", "--postgres")
    assert result.exit_code == 0, result.output
    _, _, report = result.stdout.partition(
        "neon-sync check, against a local Postgres and PgBouncer"
    )
    lines = [line for line in report.splitlines() if line.strip()]
    assert len(lines) == 8  # the demo writes 8 distinct strings
    assert all(" ok " in line and "TLSv1." in line for line in lines), report
    assert {line.split()[2] for line in lines} == {"pooled", "direct"}
    assert "****" not in report and "password=" not in report
