"""End to end over loopback: the CLI against the Neon emulator, writing .env files.
Neon is reached only through NEON_API_HOST and NEON_API_KEY, as a user would configure it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result, SeededNeon

DEV = """\
version: 1
neon:
  project_id: ${NEON_PROJECT_ID}
targets:
  local:
    provider: dotenv
    path: .env
branches:
  - match: "dev/{user}"
    sync:
      - target: local
        path: ".env.{user}"
        vars:
          DATABASE_URL: pooled
          DIRECT_URL: direct
          READ_URL: { url: pooled, endpoint: read_only }
          ANALYTICS_URL: { url: direct, database: analytics, role: analyst, format: jdbc }
  - match: main
    sync:
      - target: local
        vars:
          DATABASE_URL: pooled
          PGHOST: { value: "{host}", secret: false }
"""

Run = Callable[..., Result]


@pytest.fixture
def cli(run_cli: Run, write_config: Callable[[str], Path], neon_env: dict[str, str]) -> Run:
    """The CLI, with the DEV config in place and only the Neon settings a user gives."""
    write_config(DEV)

    def run(*args: str, env: dict[str, str] | None = None) -> Result:
        return run_cli(*args, env=neon_env if env is None else env)

    return run


def expected_alice(neon: SeededNeon) -> bytes:
    pid = neon.project_id
    rw = neon.endpoint(pid, "dev/alice")["host"]
    ro = neon.endpoint(pid, "dev/alice", type="read_only")["host"]
    pooled, ro_pooled = rw.replace(".", "-pooler.", 1), ro.replace(".", "-pooler.", 1)
    owner = neon.password(pid, "dev/alice", "neondb_owner")
    analyst = neon.password(pid, "dev/alice", "analyst")
    tail = "sslmode=require&channel_binding=require"
    return (
        f"ANALYTICS_URL='jdbc:postgresql://{rw}/analytics?user=analyst&password={analyst}"
        f"&sslmode=require&channelBinding=require'\n"
        f"DATABASE_URL='postgresql://neondb_owner:{owner}@{pooled}/neondb?{tail}'\n"
        f"DIRECT_URL='postgresql://neondb_owner:{owner}@{rw}/neondb?{tail}'\n"
        f"READ_URL='postgresql://neondb_owner:{owner}@{ro_pooled}/neondb?{tail}'\n"
    ).encode()


def test_sync_writes_the_configured_strings_into_env_files(
    cli: Run, neon: SeededNeon, tmp_path: Path
) -> None:
    result = cli("sync")
    assert result.exit_code == 0, result.output
    assert (tmp_path / ".env.alice").read_bytes() == expected_alice(neon)
    main_host = neon.endpoint(neon.project_id, "main")["host"]
    main_env = (tmp_path / ".env").read_text()
    assert f"PGHOST={main_host}\n" in main_env
    assert (tmp_path / ".env.alice").stat().st_mode & 0o777 == 0o600


def test_noop_sync_makes_no_writes_and_changes_nothing(
    cli: Run, neon: SeededNeon, tmp_path: Path
) -> None:
    assert cli("sync").exit_code == 0
    before = {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.rglob(".*") if p.is_file()
    }
    requests = len(neon.log)
    result = cli("sync", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["applied"] is True and doc["errors"] == []
    assert {c["action"] for c in doc["changes"]} == {"noop"}, [
        c for c in doc["changes"] if c["action"] != "noop"
    ]
    after = {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.rglob(".*") if p.is_file()
    }
    assert after == before  # not one file touched, the state file included
    assert all(entry.method == "GET" for entry in neon.log[requests:])


def test_password_reset_in_neon_updates_the_env_file(
    cli: Run, neon: SeededNeon, tmp_path: Path
) -> None:
    assert cli("sync").exit_code == 0
    neon.set_password(neon.project_id, "dev/alice", "neondb_owner", "npg_rotated1234")
    plan = cli("plan", "--json", "--exit-code")
    assert plan.exit_code == 3
    updates = {c["key"] for c in json.loads(plan.stdout)["changes"] if c["action"] == "update"}
    assert updates == {"DATABASE_URL", "DIRECT_URL", "READ_URL"}
    assert cli("sync").exit_code == 0
    assert (tmp_path / ".env.alice").read_bytes() == expected_alice(neon)
    assert b"npg_rotated1234" in (tmp_path / ".env.alice").read_bytes()


def test_untouched_lines_of_an_existing_env_file_stay_byte_for_byte(
    cli: Run, tmp_path: Path
) -> None:
    existing = b"# my settings\nexport DEBUG='1'\n\nDATABASE_URL=stale\nOTHER=\"keep  me\" # note\n"
    (tmp_path / ".env.alice").write_bytes(existing)
    (tmp_path / ".env.alice").chmod(0o640)
    assert cli("sync", "--branch", "dev/alice").exit_code == 0
    lines = (tmp_path / ".env.alice").read_bytes().split(b"\n")
    assert lines[:3] == [b"# my settings", b"export DEBUG='1'", b""]
    assert lines[3].startswith(b"DATABASE_URL='postgresql://neondb_owner:")
    assert lines[4] == b'OTHER="keep  me" # note'
    assert (tmp_path / ".env.alice").stat().st_mode & 0o777 == 0o640


def test_plan_shows_masked_values_and_never_a_secret(
    cli: Run, neon: SeededNeon, neon_env: dict[str, str]
) -> None:
    pid = neon.project_id
    secrets = [
        neon.password(pid, "dev/alice", "neondb_owner"),
        neon.password(pid, "dev/alice", "analyst"),
        neon_env["NEON_API_KEY"],
    ]
    outputs = [
        cli(*args).output
        for args in (("plan",), ("plan", "--json"), ("sync",), ("sync", "--json"), ("branches",))
    ]
    joined = "\n".join(outputs)
    assert "neondb_owner:****@ep-" in joined
    for secret in secrets:
        assert secret not in joined


def test_branch_filter_fetches_only_that_branch(cli: Run, neon: SeededNeon, tmp_path: Path) -> None:
    result = cli("sync", "--branch", "main")
    assert result.exit_code == 0, result.output
    assert (tmp_path / ".env").exists() and not (tmp_path / ".env.alice").exists()
    reveals = [e.path for e in neon.log if e.path.endswith("/reveal_password")]
    main_id = neon.branch(neon.project_id, "main")["id"]
    assert reveals == [
        f"/api/v2/projects/{neon.project_id}/branches/{main_id}/roles/neondb_owner/reveal_password"
    ]


def test_unknown_branch_filter_is_a_usage_error(cli: Run) -> None:
    result = cli("sync", "--branch", "nope")
    assert result.exit_code == 2
    assert "branch 'nope' not found in Neon project" in result.stderr


def test_prune_removes_only_what_neon_sync_wrote_for_a_deleted_branch(
    cli: Run, neon: SeededNeon, tmp_path: Path
) -> None:
    (tmp_path / ".env.alice").write_text("MINE=1\n")
    assert cli("sync").exit_code == 0
    neon.remove_branch(neon.project_id, "dev/alice")
    assert cli("sync").exit_code == 0
    assert "DATABASE_URL" in (tmp_path / ".env.alice").read_text()  # no --prune: kept
    # 4 of the 6 keys neon-sync owns here: over the guard's share, so it takes --force.
    assert cli("sync", "--prune").exit_code == 1
    assert "DATABASE_URL" in (tmp_path / ".env.alice").read_text()
    result = cli("sync", "--prune", "--force", "--json")
    assert result.exit_code == 0, result.output
    deleted = {c["key"] for c in json.loads(result.stdout)["changes"] if c["action"] == "delete"}
    assert deleted == {"DATABASE_URL", "DIRECT_URL", "READ_URL", "ANALYTICS_URL"}
    assert (tmp_path / ".env.alice").read_text() == "MINE=1\n"
    assert "DATABASE_URL" in (tmp_path / ".env").read_text()  # main is alive


def test_missing_api_key_is_a_clear_config_error(cli: Run, neon_env: dict[str, str]) -> None:
    env = {k: v for k, v in neon_env.items() if k != "NEON_API_KEY"}
    result = cli("plan", env=env)
    assert result.exit_code == 2
    assert "NEON_API_KEY" in result.stderr and "Traceback" not in result.output


def test_wrong_api_key_is_a_one_line_runtime_error(cli: Run, neon_env: dict[str, str]) -> None:
    result = cli("plan", env={**neon_env, "NEON_API_KEY": "wrong-key-123"})
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "401" in result.stderr
    assert "wrong-key-123" not in result.output


def test_env_file_beside_config_supplies_settings(
    run_cli: Run,
    write_config: Callable[[str], Path],
    neon_env: dict[str, str],
    tmp_path: Path,
) -> None:
    config_dir = tmp_path / "proj"
    config_dir.mkdir()
    (config_dir / "neon-sync.yaml").write_text(DEV)
    (config_dir / ".env").write_text(
        "".join(f"{k}={v}\n" for k, v in neon_env.items() if k != "NEON_API_HOST")
    )
    result = run_cli(
        "sync",
        "--branch",
        "dev/alice",
        env={"NEON_API_HOST": neon_env["NEON_API_HOST"]},
        cwd=config_dir,
    )
    assert result.exit_code == 0, result.output
    assert (config_dir / ".env.alice").exists()


def test_validate_checks_without_any_api(
    run_cli: Run,
    write_config: Callable[[str], Path],
) -> None:
    write_config(DEV)
    ok = run_cli(
        "validate", env={"NEON_PROJECT_ID": "proj-x", "NEON_API_HOST": "http://127.0.0.1:9"}
    )
    assert ok.exit_code == 0 and "ok (2 rules)" in ok.stderr
    write_config(DEV.replace('path: ".env.{user}"', "path: 42"))
    bad = run_cli("validate", env={"NEON_PROJECT_ID": "proj-x"})
    assert bad.exit_code == 2 and "neon-sync.yaml:" in bad.stderr
