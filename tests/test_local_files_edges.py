"""Local files a run reads and writes: a broken state file is a one-line usage error, a
read-only .env is left alone, temp files hide behind `.env*` ignore rules and never linger."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from neon_sync import fileio
from tests.conftest import Result
from tests.test_sync_dotenv import cli

__all__ = ["cli"]
Run = Callable[..., Result]


@pytest.mark.parametrize(
    "content",
    [
        b"[]",
        b'"state"',
        b'{"version": 1, "records": [{"target": 1}]}',
        b'{"version": 1, "records": ["x"]}',
        b'{"version": 1, "records": [{"target": "t", "scope": "s", "key": "K"}]}',
        b'{"version": 1, "records": 5}',
        b"\xff\xfe{}",
        b"{not json",
    ],
)
def test_broken_state_file_is_one_line_exit_2_and_nothing_written(
    cli: Run, tmp_path: Path, content: bytes
) -> None:
    state = tmp_path / ".neon-sync" / "state.json"
    state.parent.mkdir()
    state.write_bytes(content)
    result = cli("sync")
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert "state" in lines[0] and "Move it aside" in lines[0]
    assert not (tmp_path / ".env").exists() and state.read_bytes() == content


def test_read_only_env_is_refused_not_replaced(cli: Run, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_bytes(b"KEEP=me\n")
    env_file.chmod(0o444)
    result = cli("sync")
    assert result.exit_code == 1
    assert f"{env_file} is read-only (mode 0444); neon-sync leaves it as it is" in result.output
    assert env_file.read_bytes() == b"KEEP=me\n"
    assert env_file.stat().st_mode & 0o777 == 0o444
    assert (tmp_path / ".env.alice").exists()  # other files of the run are still written
    assert not list(tmp_path.glob("*.tmp"))


def test_temp_files_match_env_ignore_rules() -> None:
    for name in (".env", ".env.local", ".env.alice"):
        temp = fileio.temp_path(Path(name)).name
        assert fnmatch.fnmatch(temp, ".env*") and temp.endswith(".tmp")


def test_stale_temp_files_of_killed_runs_are_removed_by_the_next_run(
    cli: Run, tmp_path: Path
) -> None:
    dead = tmp_path / ".env.alice.neon-sync-99999999-0a1b2c3d.tmp"
    alive = tmp_path / f".env.alice.neon-sync-{os.getppid()}-0a1b2c3d.tmp"
    other = tmp_path / ".env.bob.neon-sync-99999999-0a1b2c3d.tmp"
    for path in (dead, alive, other):
        path.write_text("DATABASE_URL=postgresql://u:secret@h/db\n")
    assert cli("sync").exit_code == 0
    assert not dead.exists()
    assert alive.exists()  # a run in flight (its process lives) keeps its temp file
    assert other.exists()  # not a target of this config
    before = {p.name for p in tmp_path.glob("*.tmp")}
    assert cli("sync").exit_code == 0  # a no-op run cleans up too, and leaves nothing new
    assert {p.name for p in tmp_path.glob("*.tmp")} == before


def test_a_failed_replace_leaves_no_temp_file_and_the_old_env(
    cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_bytes(b"KEEP=me\n")

    def refuse(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    result = cli("sync")
    assert result.exit_code == 1 and "No space left on device" in result.output
    assert env_file.read_bytes() == b"KEEP=me\n"
    assert not list(tmp_path.glob("*.tmp"))


def test_new_files_are_0600_and_existing_modes_are_kept(cli: Run, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_bytes(b"")
    env_file.chmod(0o640)
    assert cli("sync").exit_code == 0
    assert env_file.stat().st_mode & 0o777 == 0o640
    assert (tmp_path / ".env.alice").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / ".neon-sync" / "state.json").stat().st_mode & 0o777 == 0o600


def test_atomic_write_works_where_modes_and_folder_fsync_do_not_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Windows: no folder fsync, chmod may not apply, no signal 0 to probe a process."""
    import sys

    def no_chmod(path: object, mode: int) -> None:
        raise NotImplementedError

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(os, "chmod", no_chmod)
    target = tmp_path / ".env"
    young = tmp_path / ".env.neon-sync-99999999-00000001.tmp"
    old = tmp_path / ".env.neon-sync-99999998-00000002.tmp"
    for leftover in (young, old):
        leftover.write_text("x")
    os.utime(old, (1, 1))  # long ago: a killed run's
    fileio.atomic_write(target, b"A=1\n")
    assert target.read_bytes() == b"A=1\n"
    assert young.exists() and not old.exists()  # by age, as no process can be probed
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([".env", young.name])
