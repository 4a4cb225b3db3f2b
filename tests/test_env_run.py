"""`neon-sync env` and `neon-sync run`: a branch's strings without a config file, from a
folder that holds only neonctl's `.neon` context file, against the Neon emulator."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from dotenv import dotenv_values

from tests.conftest import NEON_KEY, Result, SeededNeon, Served

Cli = Callable[..., Result]


@pytest.fixture
def project(neon: SeededNeon, neon_served: Served, tmp_path: Path) -> dict[str, str]:
    """A folder with only `.neon` in it; the environment has the API key (and the emulator)."""
    neon.add_branch(neon.project_id, "dev")
    (tmp_path / ".neon").write_text(json.dumps({"projectId": neon.project_id}), encoding="utf-8")
    return {"NEON_API_KEY": NEON_KEY, "NEON_API_HOST": neon_served.url}


def uri(neon: SeededNeon, branch: str, *, pooled: bool) -> str:
    host = neon.endpoint(neon.project_id, branch)["host"]
    if pooled:
        first, _, rest = host.partition(".")
        host = f"{first}-pooler.{rest}"
    password = neon.password(neon.project_id, branch, "neondb_owner")
    return (
        f"postgresql://neondb_owner:{password}@{host}/neondb"
        "?sslmode=require&channel_binding=require"
    )


def test_env_dev_writes_the_default_names_into_a_new_0600_env_file(
    run_cli: Cli, neon: SeededNeon, project: dict[str, str], tmp_path: Path
) -> None:
    result = run_cli("env", "dev", "-o", ".env", env=project)
    assert result.exit_code == 0, result.output
    path = tmp_path / ".env"
    assert dotenv_values(path) == {
        "DATABASE_URL": uri(neon, "dev", pooled=True),
        "DATABASE_URL_UNPOOLED": uri(neon, "dev", pooled=False),
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    password = neon.password(neon.project_id, "dev", "neondb_owner")
    assert password not in result.output
    assert "DATABASE_URL (created)" in result.stderr


def test_env_merge_keeps_other_lines_and_a_rerun_writes_nothing(
    run_cli: Cli, neon: SeededNeon, project: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / ".env"
    path.write_bytes(b"# mine\r\nAPP=1\r\nDATABASE_URL=old\r\n")
    assert run_cli("env", "dev", "-o", ".env", env=project).exit_code == 0
    pooled, direct = uri(neon, "dev", pooled=True), uri(neon, "dev", pooled=False)
    assert (
        path.read_bytes()
        == (
            f"# mine\r\nAPP=1\r\nDATABASE_URL='{pooled}'\r\nDATABASE_URL_UNPOOLED='{direct}'\r\n"
        ).encode()
    )
    before = path.stat().st_mtime_ns
    again = run_cli("env", "dev", "-o", ".env", env=project)
    assert again.exit_code == 0 and "already up to date" in again.stderr
    assert path.stat().st_mtime_ns == before
    assert not neon.writes


def test_env_prints_json_shell_and_github_output_documents(
    run_cli: Cli, neon: SeededNeon, project: dict[str, str]
) -> None:
    pooled = uri(neon, "main", pooled=True)
    doc = json.loads(run_cli("env", "--format", "json", env=project).stdout)
    assert doc == {"DATABASE_URL": pooled, "DATABASE_URL_UNPOOLED": uri(neon, "main", pooled=False)}
    shell = run_cli("env", "-f", "shell", env=project).stdout
    assert f"export DATABASE_URL='{pooled}'\n" in shell
    lines = run_cli("env", "-f", "github-output", env=project).stdout.splitlines()
    assert lines[0].startswith("DATABASE_URL<<ghadelimiter_") and lines[1] == pooled
    assert lines[2] == lines[0].split("<<")[1]


def test_env_preset_and_role_choose_the_names_and_the_role(
    run_cli: Cli, neon: SeededNeon, project: dict[str, str]
) -> None:
    result = run_cli(
        "env", "dev/alice", "--preset", "libpq", "--role", "analyst", "--database", "analytics",
        "-f", "json", env=project,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["PGUSER"] == "analyst" and doc["PGDATABASE"] == "analytics"
    assert doc["PGPASSWORD"] == neon.password(neon.project_id, "dev/alice", "analyst")


def test_env_without_any_project_says_how_to_name_one(run_cli: Cli, tmp_path: Path) -> None:
    result = run_cli("env", env={"NEON_API_KEY": NEON_KEY}, cwd=tmp_path)
    assert result.exit_code == 2
    assert "neonctl set-context" in result.stderr and not (tmp_path / ".env").exists()


def test_env_reads_the_neon_file_of_a_parent_folder(
    run_cli: Cli, project: dict[str, str], tmp_path: Path
) -> None:
    inner = tmp_path / "app" / "src"
    inner.mkdir(parents=True)
    result = run_cli("env", "dev", "-f", "json", env=project, cwd=inner)
    assert result.exit_code == 0, result.output
    assert set(json.loads(result.stdout)) == {"DATABASE_URL", "DATABASE_URL_UNPOOLED"}


def test_run_gives_the_command_the_strings_and_returns_its_exit_status(
    run_cli: Cli, neon: SeededNeon, project: dict[str, str], tmp_path: Path
) -> None:
    seen = tmp_path / "seen.json"
    code = (
        "import json, os, sys; "
        f"json.dump({{k: os.environ.get(k) for k in ('DATABASE_URL', 'DATABASE_URL_UNPOOLED')}},"
        f" open({str(seen)!r}, 'w')); sys.exit(7)"
    )
    result = run_cli("run", "dev", "--", sys.executable, "-c", code, env=project)
    assert result.exit_code == 7, result.output
    assert json.loads(seen.read_text()) == {
        "DATABASE_URL": uri(neon, "dev", pooled=True),
        "DATABASE_URL_UNPOOLED": uri(neon, "dev", pooled=False),
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == [".neon", "seen.json"]
    assert neon.password(neon.project_id, "dev", "neondb_owner") not in result.output


def test_run_passes_options_after_the_dashes_to_the_command(
    run_cli: Cli, project: dict[str, str]
) -> None:
    result = run_cli("run", "--", sys.executable, "-c", "import sys; sys.exit(3)", "--json",
                     env=project)  # fmt: skip
    assert result.exit_code == 3, result.output


def test_run_without_a_command_or_with_a_missing_one_fails_clearly(
    run_cli: Cli, project: dict[str, str]
) -> None:
    assert run_cli("run", "dev", env=project).exit_code == 2
    missing = run_cli("run", "dev", "--", "no-such-command-xyz", env=project)
    assert missing.exit_code == 127 and "command not found: no-such-command-xyz" in missing.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_run_forwards_sigterm_to_the_command(project: dict[str, str], tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    child = (
        "import signal, sys, time, pathlib\n"
        "signal.signal(signal.SIGTERM, lambda *_: sys.exit(42))\n"
        f"pathlib.Path({str(ready)!r}).touch()\n"
        "time.sleep(30)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEON_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "neon_sync", "run", "dev", "--", sys.executable, "-c", child],
        env={**env, **project},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while not ready.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert ready.exists(), proc.communicate()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 42, err
    assert out == b""


def test_env_with_a_config_uses_its_project_and_defaults(
    run_cli: Cli, neon: SeededNeon, neon_served: Served, tmp_path: Path
) -> None:
    config = tmp_path / "elsewhere.yaml"
    config.write_text(
        f"version: 1\nneon:\n  project_id: {neon.project_id}\n  role: analyst\n"
        "  database: analytics\n  channel_binding: omit\n"
        "targets: { l: { provider: dotenv, path: .env } }\n"
        "branches: [{ match: main, sync: [{ target: l, vars: { A: pooled } }] }]\n",
        encoding="utf-8",
    )
    env = {"NEON_API_KEY": NEON_KEY, "NEON_API_HOST": neon_served.url}
    result = run_cli("env", "dev/alice", "-c", str(config), "-f", "json", env=env)
    assert result.exit_code == 0, result.output
    direct = json.loads(result.stdout)["DATABASE_URL_UNPOOLED"]
    password = neon.password(neon.project_id, "dev/alice", "analyst")
    host = neon.endpoint(neon.project_id, "dev/alice")["host"]
    assert direct == f"postgresql://analyst:{password}@{host}/analytics?sslmode=require"


def test_env_inside_github_actions_masks_the_password_before_printing_it(
    neon: SeededNeon, project: dict[str, str], tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEON_", "GITHUB_"))}
    done = subprocess.run(
        [sys.executable, "-m", "neon_sync", "env", "dev", "-f", "github-output"],
        env={**env, **project, "GITHUB_ACTIONS": "true"},
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    password = neon.password(neon.project_id, "dev", "neondb_owner")
    assert f"::add-mask::{password}" in done.stderr.splitlines()
    assert "::" not in done.stdout.replace("<<ghadelimiter_", "")
