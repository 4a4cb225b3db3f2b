"""Targets read while Neon reveals passwords. Which scopes a run touches is known before any
password is: reading the targets then, in the background, takes their latency off the run
(at Neon's 40 reveals a second, a run of 200 branches spends ~5 s revealing)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from neon_sync.providers.base import Current, Scope

Read = Callable[[str, Sequence[Scope]], Mapping[Scope, Mapping[str, Current]]]


class Prefetch:
    def __init__(self, read: Read, extra: Mapping[str, set[Scope]], workers: int) -> None:
        """`read(target, scopes)` reads one target; `extra` scopes (a prune's) join the
        scopes that `start` is given."""
        self._read, self._extra = read, extra
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="prefetch")
        self._started: dict[str, tuple[list[Scope], Future[Mapping[Scope, Mapping[str, Current]]]]]
        self._started = {}

    def start(self, scopes: Iterable[Scope]) -> None:
        by_target: dict[str, set[Scope]] = defaultdict(set)
        for scope in scopes:
            by_target[scope.target].add(scope)
        for target, found in sorted(by_target.items()):
            wanted = sorted(found | self._extra.get(target, set()))
            self._started[target] = (wanted, self._pool.submit(self._read, target, wanted))

    def take(
        self, target: str, scopes: Sequence[Scope]
    ) -> Mapping[Scope, Mapping[str, Current]] | None:
        """What the early read found, if it read exactly these scopes (raising what it
        raised); None when it did not, and the caller reads now."""
        started = self._started.pop(target, None)
        if started is None or started[0] != list(scopes):
            return None
        return started[1].result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
