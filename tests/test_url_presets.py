"""`url --preset` prints a preset's variables as sync would write them; `url --format`
takes every format of the one formats table."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import Result, SeededNeon


def test_url_preset_prints_each_variable_of_the_preset(
    neon: SeededNeon, neon_env: dict[str, str], run_cli: Callable[..., Result]
) -> None:
    result = run_cli("url", "main", "--preset", "jdbc", env=neon_env)
    assert result.exit_code == 0, result.output
    host = neon.endpoint(neon.project_id, "main")["host"]
    password = neon.password(neon.project_id, "main", "neondb_owner")
    assert result.stdout.splitlines() == [
        f"JDBC_DATABASE_URL=jdbc:postgresql://{host}/neondb?sslmode=require&channelBinding=require",
        "JDBC_DATABASE_USERNAME=neondb_owner",
        f"JDBC_DATABASE_PASSWORD={password}",
    ]


def test_url_preset_for_prisma_gives_pooled_and_direct(
    neon: SeededNeon, neon_env: dict[str, str], run_cli: Callable[..., Result]
) -> None:
    result = run_cli("url", "--preset", "prisma", env=neon_env)
    assert result.exit_code == 0, result.output
    lines = dict(line.split("=", 1) for line in result.stdout.splitlines())
    assert "-pooler." in lines["DATABASE_URL"] and "pgbouncer=true" in lines["DATABASE_URL"]
    assert "-pooler." not in lines["DIRECT_URL"]


def test_url_format_npgsql_prints_a_dotnet_string(
    neon: SeededNeon, neon_env: dict[str, str], run_cli: Callable[..., Result]
) -> None:
    result = run_cli("url", "main", "--format", "npgsql", env=neon_env)
    assert result.exit_code == 0, result.output
    host = neon.endpoint(neon.project_id, "main")["host"]
    assert result.stdout.startswith(f"Host={host};Database=neondb;Username=neondb_owner;Password=")
    assert result.stdout.rstrip().endswith(";SSL Mode=Require;Channel Binding=Require")


def test_unknown_preset_or_format_is_a_usage_error_naming_the_choices(
    neon_env: dict[str, str], run_cli: Callable[..., Result]
) -> None:
    preset = run_cli("url", "--preset", "rials", env=neon_env)
    assert preset.exit_code == 2 and "known:" in preset.stderr and "rails" in preset.stderr
    fmt = run_cli("url", "--format", "odbc", env=neon_env)
    assert fmt.exit_code == 2 and "npgsql" in fmt.stderr and "sqlalchemy" in fmt.stderr
