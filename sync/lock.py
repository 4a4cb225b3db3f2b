"""OS-level locks around read-modify-write of local files (a .env, the state file), so two
runs at once (two terminals, a PR job and the hourly sync on one runner) cannot lose each
other's edits. The OS releases a lock when its process dies (kill -9 included): a lock file
left behind never blocks a later run."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from neon_sync import fileio

DEFAULT_WAIT = 60.0  # seconds a run waits for another one before it gives up
NOTICE_AFTER = 1.0  # seconds of waiting before the user is told why nothing happens


def _silent(_line: str) -> None:
    pass


# Where "waiting for ..." goes; the CLI points it at stderr (print lives in cli/ and render/).
notice: Callable[[str], None] = _silent


class Busy(Exception):
    """Another run held the lock for the whole wait."""


def lock_path(path: Path) -> Path:
    """`.neon-sync/locks/<name>.lock` beside the file: the folder neon-sync keeps its state in
    (ignored by git through its own .gitignore), so no lock file sits beside a .env. Lock
    files stay: removing one while another run waits on it would let two runs in at once."""
    folder = path.parent if path.parent.name == ".neon-sync" else path.parent / ".neon-sync"
    return folder / "locks" / (path.name + ".lock")


def _prepare(lock: Path) -> None:
    lock.parent.mkdir(parents=True, exist_ok=True)
    fileio.ignore_in_git(lock.parent.parent)


def wait_bound() -> float:
    raw = os.environ.get("NEON_SYNC_LOCK_TIMEOUT", "")
    try:
        return max(0.0, float(raw)) if raw else DEFAULT_WAIT
    except ValueError:
        return DEFAULT_WAIT


@contextmanager
def locked(path: Path, timeout: float | None = None) -> Iterator[None]:
    """Hold the lock of `path` (waiting up to `timeout` seconds, default 60 or
    $NEON_SYNC_LOCK_TIMEOUT); raise Busy when another run keeps it longer."""
    from filelock import FileLock, Timeout  # lazily: runs that write no file skip it

    bound = wait_bound() if timeout is None else timeout
    where = lock_path(path)
    _prepare(where)
    lock = FileLock(str(where))  # empty: no mode to set (Windows has no fchmod)
    try:
        lock.acquire(timeout=min(NOTICE_AFTER, bound))
    except Timeout:
        notice(f"waiting for another neon-sync run that is writing {path.name} (up to {bound:g}s)")
        try:
            lock.acquire(timeout=max(0.0, bound - NOTICE_AFTER))
        except Timeout:
            raise Busy(
                f"another neon-sync run kept {path} locked for {bound:g}s; "
                "run again once it has finished"
            ) from None
    try:
        yield
    finally:
        lock.release()
