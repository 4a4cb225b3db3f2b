"""SIGINT/SIGTERM during a run. Before anything is written, a signal stops the run at once.
Once writes have begun, it stops the run between scopes instead: writes in flight finish,
no new ones start, and the state of every write that completed is saved before the CLI
exits 130 (SIGINT) or 143 (SIGTERM). Without it a re-run would not know what it wrote."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any


class Stopped(KeyboardInterrupt):
    """A signal arrived before any write: nothing to save."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.exit_code = 128 + signum


def _signals() -> list[int]:
    # Windows has SIGINT and SIGTERM in `signal`, but not every platform need have both.
    return [s for s in (getattr(signal, n, None) for n in ("SIGINT", "SIGTERM")) if s is not None]


class Interrupt:
    def __init__(self) -> None:
        self.event = threading.Event()
        self.signum: int | None = None
        self._writing = 0
        self._lock = threading.Lock()

    @property
    def exit_code(self) -> int:
        return 128 + (self.signum or signal.SIGINT)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.signum = signum
        self.event.set()
        with self._lock:
            writing = self._writing > 0
        if not writing:
            raise Stopped(signum)

    @contextmanager
    def installed(self) -> Iterator[Interrupt]:
        """Handle the signals in this (main) thread until the block ends."""
        if threading.current_thread() is not threading.main_thread():
            yield self  # signal handlers can only be set from the main thread
            return
        before: dict[int, Any] = {}
        for signum in _signals():
            before[signum] = signal.signal(signum, self._handle)
        try:
            yield self
        finally:
            for signum, handler in before.items():
                signal.signal(signum, handler)

    @contextmanager
    def writing(self) -> Iterator[threading.Event]:
        """While in this block a signal only sets the returned event: apply stops starting
        writes, and the block's end (saving state) is reached."""
        with self._lock:
            self._writing += 1
        try:
            yield self.event
        finally:
            with self._lock:
                self._writing -= 1
