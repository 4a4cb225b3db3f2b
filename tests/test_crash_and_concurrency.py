"""Real `neon-sync` processes against the emulators over loopback: two runs at once on one
.env keep both runs' keys; a run waiting on another's lock says so and gives up clearly;
kill -9 at many moments leaves every .env as before or as after and the state valid JSON;
SIGTERM mid-write saves the state of what was written and exits 143."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from neon_sync.emulators.github import GitHubEmulator
from neon_sync.emulators.server import serve
from neon_sync.lock import locked
from tests.conftest import NEON_KEY, SeededNeon, python

ROOT = Path(__file__).resolve().parent.parent
USERS = [f"u{i:02d}" for i in range(12)]
FILES = """\
version: 1
neon:
  project_id: ${NEON_PROJECT_ID}
targets:
  local: { provider: dotenv, path: .env }
branches:
  - match: "dev/{user}"
    sync:
      - target: local
        path: ".env.{user}"
        vars: { DATABASE_URL: pooled, DIRECT_URL: direct }
  - match: main
    sync:
      - { target: local, vars: { MAIN_URL: pooled } }
  - match: dev/alice
    sync:
      - { target: local, vars: { ALICE_URL: pooled } }
"""


@pytest.fixture
def neon_url(neon: SeededNeon) -> Iterator[str]:
    for user in USERS:
        neon.add_branch(neon.project_id, f"dev/{user}")
    with serve(neon.handle) as url:
        yield url + "/api/v2"


def environment(neon: SeededNeon, neon_url: str, **extra: str) -> dict[str, str]:
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("NEON_", "GITHUB_", "VERCEL_"))
    }
    return {
        **clean,
        "NEON_API_HOST": neon_url,
        "NEON_API_KEY": NEON_KEY,
        "NEON_PROJECT_ID": neon.project_id,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def start(folder: Path, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [python(), "-m", "neon_sync", "sync", *args],
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob(".env*"))}


def test_two_runs_at_once_on_one_env_file_keep_both_branches_keys(
    neon: SeededNeon, neon_url: str, tmp_path: Path
) -> None:
    (tmp_path / "neon-sync.yaml").write_text(FILES)
    neon.latency = 0.02  # both runs read Neon while the other may be writing
    env = environment(neon, neon_url)
    runs = [start(tmp_path, env, "--branch", b) for b in ("main", "dev/alice")]
    for proc in runs:
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err.decode()
    held = (tmp_path / ".env").read_text()
    assert "MAIN_URL=" in held and "ALICE_URL=" in held
    records = json.loads((tmp_path / ".neon-sync" / "state.json").read_text())["records"]
    assert {(r["scope"], r["key"]) for r in records} >= {
        (".env", "MAIN_URL"),
        (".env", "ALICE_URL"),
    }


def test_a_run_waits_for_anothers_lock_then_fails_clearly_writing_nothing(
    neon: SeededNeon, neon_url: str, tmp_path: Path
) -> None:
    (tmp_path / "neon-sync.yaml").write_text(FILES)
    (tmp_path / ".env").write_text("KEEP=1\n")
    env = environment(neon, neon_url, NEON_SYNC_LOCK_TIMEOUT="2")
    with locked(tmp_path / ".env"):  # another run, busy with .env
        proc = start(tmp_path, env, "--branch", "main")
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    message = err.decode()
    assert "waiting for another neon-sync run that is writing .env (up to 2s)" in message
    assert "kept" in message and "locked for 2s" in message and "Traceback" not in message
    assert (tmp_path / ".env").read_text() == "KEEP=1\n"


def test_kill_9_at_any_moment_leaves_each_env_before_or_after_and_a_rerun_converges(
    neon: SeededNeon, neon_url: str, tmp_path: Path
) -> None:
    reference = tmp_path / "reference"
    reference.mkdir()
    (reference / "neon-sync.yaml").write_text(FILES)
    (reference / ".env").write_text("")
    env = environment(neon, neon_url)
    done = start(reference, env)
    assert done.wait(timeout=60) == 0
    after = files(reference)
    after[".env"] = b"# mine\nKEEP=1\n" + after[".env"]  # each run's .env starts with these
    neon.latency = 0.01
    for attempt, delay in enumerate([0.0, 0.002, 0.005, 0.01, 0.03, 0.08]):
        folder = tmp_path / f"run{attempt}"
        folder.mkdir()
        (folder / "neon-sync.yaml").write_text(FILES)
        (folder / ".env").write_text("# mine\nKEEP=1\n")
        before = files(folder)
        proc = start(folder, env)
        deadline = time.monotonic() + 30
        while not any(folder.glob(".env.u*")) and proc.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.0005)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        for name, data in files(folder).items():
            if name in after or name in before:
                assert data in (before.get(name), after.get(name)), (attempt, name, data)
            else:  # a temp file of the killed run: the next run cleans it or ignores it
                assert name.endswith(".tmp"), name
        state = folder / ".neon-sync" / "state.json"
        if state.exists():
            json.loads(state.read_text())  # never half-written
        again = start(folder, env)
        _out, err = again.communicate(timeout=60)
        assert again.returncode == 0, err.decode()
        converged = {k: v for k, v in files(folder).items() if not k.endswith(".tmp")}
        assert converged == after, attempt


def test_sigterm_mid_write_saves_the_state_of_what_was_written_and_exits_143(
    neon: SeededNeon, neon_url: str, tmp_path: Path
) -> None:
    github = GitHubEmulator(token="ghp_term_1")
    github.add_repo("acme/shop")
    (tmp_path / "neon-sync.yaml").write_text(
        FILES.replace(
            "  local: { provider: dotenv, path: .env }",
            "  local: { provider: dotenv, path: .env }\n"
            "  repo: { provider: github, repository: acme/shop }",
        ).replace(
            'path: ".env.{user}"\n        vars: { DATABASE_URL: pooled, DIRECT_URL: direct }',
            'path: ".env.{user}"\n        vars: { DATABASE_URL: pooled, DIRECT_URL: direct }\n'
            '      - { target: repo, environment: "preview-{user}",'
            " vars: { DATABASE_URL: pooled } }",
        )
    )

    def held() -> set[str]:
        repo = github.repos["acme/shop"]
        return {e.name for e in repo.environments.values() if "DATABASE_URL" in e.place.secrets}

    github.latency = 0.1  # each environment's writes take a while: one scope after another
    with serve(github.handle) as url:
        env = environment(neon, neon_url, GITHUB_API_URL=url, GITHUB_TOKEN="ghp_term_1")
        proc = start(tmp_path, env)
        deadline = time.monotonic() + 30
        while not any(e.method == "PUT" and "/secrets/" in e.path for e in github.log):
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.01)
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 143, err.decode()
        assert "interrupted" in err.decode() and "Traceback" not in err.decode()
        written = held()
        assert 0 < len(written) < len(USERS) + 1  # stopped between scopes
        state = json.loads((tmp_path / ".neon-sync" / "state.json").read_text())
        recorded = {
            r["scope"] for r in state["records"] if r["target"] == "repo" and r["key"] != "*"
        }
        assert recorded == {f"env:acme/shop/{name}" for name in written}
        github.latency = 0
        github.log.clear()
        again = start(tmp_path, env)
        _, err = again.communicate(timeout=60)
        assert again.returncode == 0, err.decode()
        assert len(held()) == len(USERS) + 1
    puts = [e for e in github.log if e.method == "PUT" and "/secrets/" in e.path]
    assert len(puts) == len(USERS) + 1 - len(written)  # only what was left to write
