"""`neon-sync watch` against the Neon emulator: the loop is driven with `max_polls` and a fake
`wait` that changes Neon between polls (no real sleeping); one test runs the CLI as a process
against the emulator over loopback and stops it with SIGTERM."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from dotenv import dotenv_values

from neon_sync.commands.watch import MAX_BACKOFF, backoff, watch
from neon_sync.emulators.base import Logged
from neon_sync.engine.run import Run, open_run
from neon_sync.errors import ConfigError
from neon_sync.neon.client import NeonClient
from tests.conftest import NEON_KEY, SeededNeon, python

CONFIG = """\
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
  - match: main
    sync:
      - target: local
        vars:
          DATABASE_URL: direct
"""
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(neon: SeededNeon) -> dict[str, str]:
    return {
        "NEON_API_HOST": "https://neon.test/api/v2",
        "NEON_API_KEY": NEON_KEY,
        "NEON_PROJECT_ID": neon.project_id,
    }


Opener = Callable[..., AbstractContextManager[Run]]


@pytest.fixture
def open_watch_run(
    write_config: Callable[[str], Path], env: dict[str, str], neon_transport: httpx.MockTransport
) -> Opener:
    """A Run on CONFIG (or `text`), Neon in-process; Neon's retry waits are recorded."""

    def opened(
        text: str = CONFIG, retry_waits: list[float] | None = None
    ) -> AbstractContextManager[Run]:
        config = write_config(text)
        sleep = (retry_waits if retry_waits is not None else []).append
        return open_run(str(config), env, transport=neon_transport, sleep=sleep)

    return opened


@dataclass
class Watched:
    polls: int
    lines: list[str]
    waits: list[float]  # what the loop asked `wait` for, in order
    # len(neon.log) when each wait began and after its change to Neon was made
    marks: list[tuple[int, int]] = field(default_factory=list)

    def requests(self, neon: SeededNeon, poll: int) -> list[Logged]:
        """The requests poll number `poll` (from 1) made."""
        starts = [0] + [after for _, after in self.marks]
        ends = [before for before, _ in self.marks] + [len(neon.log)]
        return neon.log[starts[poll - 1] : ends[poll - 1]]


def drive(
    run: Run,
    neon: SeededNeon,
    *between: Callable[[], object],
    prune: bool = False,
    interval: float = 30.0,
    max_polls: int | None = None,
    **options: Any,
) -> Watched:
    """Watch for len(between) + 1 polls (or max_polls), calling between[i] in the i-th wait."""
    steps = iter(between)
    result = Watched(0, [], [])

    def wait(seconds: float) -> bool:
        result.waits.append(seconds)
        before = len(neon.log)
        next(steps, lambda: None)()
        result.marks.append((before, len(neon.log)))
        return False

    options = {"full_every": 1000, "roles_every": 1000, **options}
    result.polls = watch(
        run,
        interval=interval,
        prune=prune,
        stop=threading.Event(),
        log=result.lines.append,
        max_polls=max_polls or len(between) + 1,
        wait=wait,
        **options,
    )
    return result


def pid(neon: SeededNeon) -> str:
    return neon.project_id


def url(neon: SeededNeon, branch: str, *, pooled: bool = True) -> str:
    host = neon.endpoint(pid(neon), branch)["host"]
    if pooled:
        host = host.replace(".", "-pooler.", 1)
    password = neon.password(pid(neon), branch, "neondb_owner")
    return f"postgresql://neondb_owner:{password}@{host}/neondb?sslmode=require&channel_binding=require"


def env_file(path: Path) -> dict[str, str | None]:
    return dict(dotenv_values(path)) if path.exists() else {}


def reveals(entries: list[Logged]) -> list[str]:
    """The branch ids whose passwords were revealed."""
    return sorted(e.path.split("/")[-4] for e in entries if e.path.endswith("/reveal_password"))


def noop() -> None:
    pass


def branch_id(neon: SeededNeon, name: str) -> str:
    return str(neon.branch(pid(neon), name)["id"])


def test_first_poll_syncs_everything_and_quiet_polls_only_list(
    neon: SeededNeon, open_watch_run: Opener, tmp_path: Path
) -> None:
    with open_watch_run() as run:
        watched = drive(run, neon, noop, noop, heartbeat_every=2)
    assert env_file(tmp_path / ".env.alice") == {"DATABASE_URL": url(neon, "dev/alice")}
    assert env_file(tmp_path / ".env") == {"DATABASE_URL": url(neon, "main", pooled=False)}
    base = f"/api/v2/projects/{pid(neon)}"
    for poll in (2, 3):
        assert [(e.method, e.path) for e in watched.requests(neon, poll)] == [
            ("GET", f"{base}/branches"),
            ("GET", f"{base}/endpoints"),
        ]
    assert watched.waits == [30.0, 30.0]
    assert watched.lines.count("no change in Neon for 2 polls (3 branches)") == 1
    assert "created DATABASE_URL in local (.env.alice) for dev/alice" in watched.lines


def test_branch_created_in_neon_appears_in_its_env_file_after_one_poll(
    neon: SeededNeon, open_watch_run: Opener, tmp_path: Path
) -> None:
    with open_watch_run() as run:
        watched = drive(run, neon, lambda: neon.add_branch(pid(neon), "dev/bob"))
    assert env_file(tmp_path / ".env.bob") == {"DATABASE_URL": url(neon, "dev/bob")}
    assert reveals(watched.requests(neon, 2)) == [branch_id(neon, "dev/bob")]
    assert watched.lines[-3:-1] == [
        "branch dev/bob created in Neon",
        "created DATABASE_URL in local (.env.bob) for dev/bob",
    ]


def test_deleted_branch_is_pruned_only_with_prune(
    neon: SeededNeon, open_watch_run: Opener, tmp_path: Path
) -> None:
    (tmp_path / ".env.alice").write_text("MINE=1\n")
    with open_watch_run() as run:
        kept = drive(run, neon, lambda: neon.remove_branch(pid(neon), "dev/alice"))
    assert "DATABASE_URL" in env_file(tmp_path / ".env.alice")
    assert not [e for e in kept.requests(neon, 2) if e.path.endswith("/reveal_password")]
    assert any("stay (watch --prune removes them)" in line for line in kept.lines)

    with open_watch_run() as run:  # the branch is gone by now: the first full sync prunes
        pruned = drive(run, neon, prune=True)
    assert env_file(tmp_path / ".env.alice") == {"MINE": "1"}
    assert "deleted DATABASE_URL in local (.env.alice) for dev/alice" in pruned.lines
    assert "DATABASE_URL" in env_file(tmp_path / ".env")


def test_branch_deleted_while_watching_with_prune_goes_at_the_next_poll(
    neon: SeededNeon, open_watch_run: Opener, tmp_path: Path
) -> None:
    with open_watch_run() as run:
        watched = drive(run, neon, lambda: neon.remove_branch(pid(neon), "dev/alice"), prune=True)
    assert env_file(tmp_path / ".env.alice") == {}
    assert reveals(watched.requests(neon, 2)) == []  # nothing live changed
    assert watched.lines[-3:-1] == [
        "branch dev/alice deleted in Neon",
        "deleted DATABASE_URL in local (.env.alice) for dev/alice",
    ]


def test_renamed_branch_is_a_delete_and_a_create(
    neon: SeededNeon, open_watch_run: Opener, tmp_path: Path
) -> None:
    def rename() -> None:
        with neon.lock:
            row = neon.projects[pid(neon)].branches[branch_id(neon, "dev/alice")]
            row.name, row.updated_at = "dev/carol", neon.now()

    with open_watch_run() as run:
        watched = drive(run, neon, rename, prune=True)
    assert env_file(tmp_path / ".env.carol") == {"DATABASE_URL": url(neon, "dev/carol")}
    assert env_file(tmp_path / ".env.alice") == {}
    assert "branch dev/alice renamed to dev/carol in Neon" in watched.lines


def test_replaced_compute_updates_the_url(
    neon: SeededNeon, open_watch_run: Opener, tmp_path: Path
) -> None:
    old = neon.endpoint(pid(neon), "dev/alice")["id"]

    def replace() -> None:
        with neon.lock:
            del neon.projects[pid(neon)].endpoints[old]
        neon.add_endpoint(pid(neon), "dev/alice")

    with open_watch_run() as run:
        watched = drive(run, neon, replace)
    assert env_file(tmp_path / ".env.alice") == {"DATABASE_URL": url(neon, "dev/alice")}
    assert old not in (tmp_path / ".env.alice").read_text()
    assert f"compute {old} removed from branch dev/alice" in watched.lines
    assert reveals(watched.requests(neon, 2)) == [branch_id(neon, "dev/alice")]


def test_password_reset_propagates_at_the_next_roles_check(
    neon: SeededNeon,
    open_watch_run: Opener,
    neon_transport: httpx.MockTransport,
    tmp_path: Path,
) -> None:
    def reset() -> None:  # as someone would in the console: through Neon's API
        with NeonClient(
            NEON_KEY, pid(neon), transport=neon_transport, sleep=lambda _: None
        ) as other:
            other.reset_password(branch_id(neon, "dev/alice"), "neondb_owner")

    before = url(neon, "dev/alice")
    with open_watch_run() as run:
        watched = drive(run, neon, reset, noop, roles_every=2)
    after = url(neon, "dev/alice")
    assert after != before
    assert env_file(tmp_path / ".env.alice") == {"DATABASE_URL": after}
    assert len(watched.requests(neon, 2)) == 2  # not a roles check: the two listings only
    assert reveals(watched.requests(neon, 3)) == [branch_id(neon, "dev/alice")]
    assert "updated DATABASE_URL in local (.env.alice) for dev/alice" in watched.lines


def test_full_resync_catches_a_password_change_that_left_no_trace(
    neon: SeededNeon, open_watch_run: Opener, tmp_path: Path
) -> None:
    def alter_role_in_sql() -> None:  # no updated_at moves anywhere
        with neon.lock:
            row = neon.projects[pid(neon)].branches[branch_id(neon, "dev/alice")]
            row.roles["neondb_owner"].password = "npg_changedInSql9"

    with open_watch_run() as run:
        watched = drive(run, neon, alter_role_in_sql, noop, noop, full_every=3, roles_every=1)
    assert "npg_changedInSql9" in str(env_file(tmp_path / ".env.alice")["DATABASE_URL"])
    assert reveals(watched.requests(neon, 2)) == reveals(watched.requests(neon, 3)) == []
    assert len(reveals(watched.requests(neon, 4))) == 2  # poll 4: everything, main and alice
    assert not any("npg_changedInSql9" in line for line in watched.lines)


def test_failing_polls_are_logged_and_retried_with_doubling_backoff(
    neon: SeededNeon, open_watch_run: Opener, tmp_path: Path
) -> None:
    neon.inject(503, times=1000, method="GET", path="/branches$")  # beyond the retry bound
    retry_waits: list[float] = []
    with open_watch_run(retry_waits=retry_waits) as run:
        watched = drive(run, neon, noop, neon.faults.clear, noop)
    assert watched.polls == 4
    assert watched.waits == [60.0, 120.0, 30.0]
    failed = [line for line in watched.lines if line.startswith("poll failed")]
    assert len(failed) == 2 and "(503)" in failed[0] and failed[0].endswith("retrying in 60s")
    assert env_file(tmp_path / ".env.alice") == {"DATABASE_URL": url(neon, "dev/alice")}
    # each failing poll first went through the client's own bounded retries
    tries = [len(watched.requests(neon, poll)) for poll in (1, 2)]
    assert tries[0] == tries[1] == len(retry_waits) / 2 + 1 > 1
    assert backoff(30, 6) == backoff(30, 20) == MAX_BACKOFF
    assert backoff(600, 1) == 600  # never sooner than the interval


def test_failing_target_is_logged_once_and_retried_until_it_works(
    neon: SeededNeon, open_watch_run: Opener, tmp_path: Path
) -> None:
    config = CONFIG.replace(
        "    path: .env\n",
        "    path: .env\n  broken:\n    provider: dotenv\n    path: missing/.env\n",
        1,
    )
    config += "      - { target: broken, vars: { DATABASE_URL: pooled } }\n"
    with open_watch_run(config) as run:
        watched = drive(run, neon, noop, (tmp_path / "missing").mkdir)
    assert env_file(tmp_path / "missing" / ".env") == {"DATABASE_URL": url(neon, "main")}
    assert sum("target broken failed" in line for line in watched.lines) == 1
    assert "target broken works again" in watched.lines
    main = branch_id(neon, "main")
    assert reveals(watched.requests(neon, 2)) == [main]  # only the branch that failed
    assert reveals(watched.requests(neon, 3)) == [main]


def test_a_branch_created_and_deleted_between_failing_polls_does_not_end_the_watch(
    neon: SeededNeon, open_watch_run: Opener, tmp_path: Path
) -> None:
    def create_while_neon_fails() -> None:
        neon.add_branch(pid(neon), "dev/bob")
        neon.inject(503, times=1000, method="GET", path="/reveal_password$")

    def delete_and_recover() -> None:
        neon.remove_branch(pid(neon), "dev/bob")
        neon.faults.clear()

    with open_watch_run() as run:
        watched = drive(run, neon, create_while_neon_fails, delete_and_recover)
    # The reveal failing is dev/bob's problem: the watch neither stops nor backs off.
    assert watched.polls == 3 and watched.waits == [30.0, 30.0]
    assert sum("dev/bob" in line and "next full pass" in line for line in watched.lines) == 1
    assert not (tmp_path / ".env.bob").exists()
    assert reveals(watched.requests(neon, 3)) == []


def test_stop_during_a_sync_finishes_it_and_returns(
    neon: SeededNeon, write_config: Callable[[str], Path], env: dict[str, str], tmp_path: Path
) -> None:
    stop = threading.Event()

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/reveal_password"):
            stop.set()  # SIGTERM arrives mid-sync
        return neon.handle(request)

    waits: list[float] = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        return stop.is_set()

    config = str(write_config(CONFIG))
    with open_run(config, env, transport=httpx.MockTransport(handle)) as run:
        polls = watch(run, interval=30, prune=False, stop=stop, log=lambda _: None, wait=wait)
    assert polls == 1 and waits == []
    assert env_file(tmp_path / ".env.alice") == {"DATABASE_URL": url(neon, "dev/alice")}
    assert env_file(tmp_path / ".env") == {"DATABASE_URL": url(neon, "main", pooled=False)}
    assert (tmp_path / ".neon-sync" / "state.json").exists()


def test_config_error_ends_the_watch(
    neon: SeededNeon, open_watch_run: Opener, monkeypatch: pytest.MonkeyPatch
) -> None:
    def bad(*_: object, **__: object) -> None:
        raise ConfigError("two rules give DATABASE_URL different values")

    with open_watch_run() as run, pytest.raises(ConfigError):
        monkeypatch.setattr(run, "sync", bad)
        drive(run, neon, noop)


def read_until(proc: subprocess.Popen[bytes], needle: bytes, timeout: float) -> bytes:
    """What the process wrote on stderr up to `needle`; fails after `timeout` seconds."""
    assert proc.stderr is not None
    fd, seen, deadline = proc.stderr.fileno(), b"", time.monotonic() + timeout
    while needle not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {needle!r} in time: {seen!r}"
        if select.select([fd], [], [], left)[0]:
            chunk = os.read(fd, 65536)
            assert chunk, f"exited early: {seen!r}"
            seen += chunk
    return seen


def test_cli_watch_exits_0_on_sigterm_and_prints_no_secret(
    neon: SeededNeon,
    neon_env: dict[str, str],
    write_config: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    write_config(CONFIG)
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("NEON_", "GITHUB_", "VERCEL_"))
    }
    proc = subprocess.Popen(
        [python(), "-m", "neon_sync", "watch", "--interval", "1s"],
        cwd=tmp_path,
        env={**clean, **neon_env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        head = read_until(proc, b"for dev/alice\n", timeout=30)
        proc.send_signal(signal.SIGTERM)
        out, tail = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = (out + head + tail).decode()
    assert proc.returncode == 0, output
    assert "created DATABASE_URL in local (.env.alice) for dev/alice" in output
    assert "stopped after" in output
    assert env_file(tmp_path / ".env.alice") == {"DATABASE_URL": url(neon, "dev/alice")}
    secrets = {neon.password(pid(neon), b, "neondb_owner") for b in ("main", "dev/alice")}
    secrets |= {NEON_KEY, neon.password(pid(neon), "dev/alice", "analyst")}
    for secret in secrets:
        assert secret not in output
