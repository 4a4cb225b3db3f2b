"""The one way neon-sync replaces a file: write a temp file beside it, fsync, rename over it,
fsync the folder. A reader (or a kill -9) sees the old file or the new one, never half.

Temp files are named `<name>.neon-sync-<pid>-<random>.tmp` beside the target, so that the
ignore rule that hides the target (`.env*`) hides them too, and the next write of the same
target can tell a leftover of a killed run (its process is gone) from a run in flight.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import stat
import sys
import time
from pathlib import Path

TEMP_MARK = ".neon-sync-"
NEW_FILE_MODE = 0o600  # a new .env or state file is never readable by others
STALE_AFTER = 300.0  # seconds; where a process cannot be probed (Windows)


class ReadOnlyFile(OSError):
    """The target exists without write permission: the user said "don't touch"."""


def temp_path(path: Path) -> Path:
    return path.with_name(f"{path.name}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}.tmp")


def remove_stale_temps(path: Path) -> list[Path]:
    """Remove temp files of `path` left by runs that were killed; return them."""
    removed = []
    pattern = glob.escape(str(path)) + f"{TEMP_MARK}*.tmp"
    for leftover in map(Path, glob.glob(pattern)):
        if _owner_alive(leftover):
            continue
        with contextlib.suppress(OSError):
            leftover.unlink()
            removed.append(leftover)
    return removed


def _owner_alive(temp: Path) -> bool:
    pid_text = temp.name.rsplit(TEMP_MARK, 1)[1].split("-")[0]
    if not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True  # this run's: another thread may be writing the same file right now
    if sys.platform == "win32":  # no signal 0: judge by age
        try:
            return time.time() - temp.stat().st_mtime < STALE_AFTER
        except OSError:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def check_writable(path: Path) -> None:
    """Refuse a file its owner made read-only. Mode bits, not os.access: root may write
    anything, but a 0444 .env still says "leave me alone"."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    if not mode & stat.S_IWUSR:
        raise ReadOnlyFile(
            f"{path} is read-only (mode {stat.S_IMODE(mode):04o}); neon-sync leaves it as it is. "
            "Make it writable (chmod u+w) to let neon-sync update it"
        )


def atomic_write(path: Path, data: bytes, mode: int | None = None) -> None:
    """Replace `path` with `data`. The file keeps its mode (or gets `mode`, else 0600 when new).
    Raises ReadOnlyFile for a read-only target, OSError for anything else; no temp file is
    left behind on any exit path this process survives."""
    check_writable(path)
    remove_stale_temps(path)
    if mode is None:
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = NEW_FILE_MODE
    tmp = temp_path(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(NotImplementedError):  # modes are partial on Windows
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable. Not possible on Windows (folders cannot be opened)."""
    if sys.platform == "win32":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def ignore_in_git(folder: Path) -> None:
    """A folder of neon-sync's own (`.neon-sync/`) keeps itself out of git: `*` in its own
    .gitignore, written once."""
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
