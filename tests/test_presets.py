"""Presets in a sync item: the variables each stack reads, renamed or overridden per item."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import Result, SeededNeon

CONFIG = """\
version: 1
neon:
  project_id: ${{NEON_PROJECT_ID}}
targets:
  local:
    provider: dotenv
    path: .env
branches:
  - match: main
    sync:
      - target: local
{item}
"""


def test_a_preset_variable_can_be_renamed_and_another_overridden(
    neon: SeededNeon,
    neon_env: dict[str, str],
    write_config: Callable[..., Path],
    run_cli: Callable[..., Result],
) -> None:
    item = (
        "        preset: jdbc\n"
        "        rename: {JDBC_DATABASE_URL: DB_URL}\n"
        "        vars: {JDBC_DATABASE_USERNAME: {value: '{role}', secret: false}}\n"
    )
    path = write_config(CONFIG.format(item=item))
    result = run_cli("sync", "-c", str(path), env=neon_env)
    assert result.exit_code == 0, result.output
    host = neon.endpoint(neon.project_id, "main")["host"]
    password = neon.password(neon.project_id, "main", "neondb_owner")
    lines = sorted((path.parent / ".env").read_text().splitlines())
    assert lines == [
        f"DB_URL='jdbc:postgresql://{host}/neondb?sslmode=require&channelBinding=require'",
        f"JDBC_DATABASE_PASSWORD={password}",
        "JDBC_DATABASE_USERNAME=neondb_owner",
    ]


def test_renaming_a_name_the_preset_does_not_set_is_refused_at_its_line(
    neon_env: dict[str, str],
    write_config: Callable[..., Path],
    run_cli: Callable[..., Result],
) -> None:
    item = "        preset: prisma\n        rename:\n          DIRECT_ULR: MIGRATE_URL\n"
    path = write_config(CONFIG.format(item=item))
    result = run_cli("sync", "-c", str(path), env=neon_env)
    assert result.exit_code == 2
    assert f"{path}:14:11" in result.stderr and "DIRECT_URL" in result.stderr
    assert not (path.parent / ".env").exists()


def test_rename_without_a_preset_is_refused(
    neon_env: dict[str, str],
    write_config: Callable[..., Path],
    run_cli: Callable[..., Result],
) -> None:
    item = "        rename: {A: B}\n        vars: {A: pooled}\n"
    path = write_config(CONFIG.format(item=item))
    result = run_cli("validate", "-c", str(path), env=neon_env)
    assert result.exit_code == 2 and "add `preset:`" in result.stderr
