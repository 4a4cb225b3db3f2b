"""Published rate limits, enforced by an emulator when asked (`emu.enforce_limits()`), so
benchmarks and tests can see a client stay under them. Off by default: most tests want speed.

Sliding windows: a request is refused when a window already holds `limit` requests from the
last `seconds` (per route, or for the whole account). Refused requests do not count."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    limit: int
    seconds: float
    per_route: bool = False
    writes_only: bool = False  # GitHub counts only content-creating requests here
    what: str = ""  # how the service names the limit, for the refusal message


WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Neon: 700 requests a minute per account, bursts of 40 a second per route.
NEON = (Window(40, 1.0, per_route=True, what="40 a second"), Window(700, 60.0, what="700 a minute"))
# GitHub: 5,000 requests an hour (primary); content creation 80 a minute and 500 an hour.
GITHUB = (
    Window(5000, 3600.0, what="primary"),
    Window(80, 60.0, writes_only=True, what="secondary"),
    Window(500, 3600.0, writes_only=True, what="secondary"),
)
# Vercel publishes no per-endpoint figure for env vars in our specs; 100 a minute per route is
# the `limit.total` its 429 bodies carry (and below any figure seen quoted).
VERCEL = (Window(100, 60.0, per_route=True, what="100 a minute"),)


class RateLimits:
    def __init__(self, windows: Sequence[Window], clock: Callable[[], float] = time.monotonic):
        self.windows = tuple(windows)
        self._clock = clock
        self._seen: dict[tuple[int, str], deque[float]] = {}
        self._lock = threading.Lock()
        self.refused = 0

    def admit(self, method: str, route: str) -> tuple[Window, float] | None:
        """None, counting the request, when every window has room; else the full window and
        the seconds until it has room."""
        with self._lock:
            now = self._clock()
            logs = []
            for index, window in enumerate(self.windows):
                if window.writes_only and method not in WRITES:
                    continue
                seen = self._seen.setdefault((index, route if window.per_route else ""), deque())
                while seen and seen[0] <= now - window.seconds:
                    seen.popleft()
                if len(seen) >= window.limit:
                    self.refused += 1
                    return window, seen[0] + window.seconds - now
                logs.append(seen)
            for seen in logs:
                seen.append(now)
            return None

    def reset(self) -> None:
        """Forget every request seen, as if the windows had all passed."""
        with self._lock:
            self._seen.clear()
