"""Neon's published rate limits, kept on our side: at most 40 requests a second per route and
700 a minute per account (sliding windows), and a cap on requests in flight that adapts
(AIMD): one more per round of answers that came back fast without a 429, half after a 429.

One limiter serves every thread of a NeonClient; it sits under the retry transport, so a
retried request queues again like any other. Neon documents no Retry-After, so staying under
the limits is what keeps a 1,000-branch sync free of 429s."""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import httpx

Clock = Callable[[], float]
Sleep = Callable[[float], None]
# Path segments that name a thing rather than a route: /projects/{id}/branches/{id}/...
_COLLECTIONS = frozenset({"projects", "branches", "roles", "endpoints", "databases", "operations"})
_SEP = re.compile(r"/+")


@dataclass(frozen=True)
class Limits:
    per_route: int = 40
    route_window: float = 1.0
    total: int = 700
    total_window: float = 60.0
    # Requests count from their answers (see release); a little more, for clocks' jitter.
    guard: float = 0.01
    start: float = 4.0  # requests in flight at first
    ceiling: float = 32.0
    slow: float = 2.0  # seconds: an answer slower than this does not earn more concurrency


def route_of(method: str, path: str) -> str:
    """The route a request counts against: its method and path with ids blanked."""
    parts = [part for part in _SEP.split(path) if part]
    out = [
        "*" if index and parts[index - 1] in _COLLECTIONS else part
        for index, part in enumerate(parts)
    ]
    return f"{method} /{'/'.join(out)}"


class Limiter:
    def __init__(
        self, limits: Limits = Limits(), clock: Clock = time.monotonic, sleep: Sleep = time.sleep
    ) -> None:
        self.limits = limits
        self._clock, self._sleep = clock, sleep
        self._cond = threading.Condition()
        self._routes: dict[str, deque[list[float]]] = {}
        self._all: deque[list[float]] = deque()
        self._in_flight = 0
        self._pause_until = 0.0  # after a 429: Neon's window is fuller than ours knew
        self.window = limits.start  # the adaptive cap on requests in flight
        self.throttled = 0  # 429s seen

    def acquire(self, route: str) -> list[float]:
        """Wait for a free slot, reserve the earliest send time both windows allow, then
        sleep (without the lock) until it comes. Returns the request's entry in the windows,
        for release()."""
        limits = self.limits
        with self._cond:
            while self._in_flight >= max(1, int(self.window)):
                self._cond.wait()
            self._in_flight += 1
            now = self._clock()
            sent = self._routes.setdefault(route, deque())
            _forget(sent, now - limits.route_window - limits.guard)
            _forget(self._all, now - limits.total_window - limits.guard)
            at = max(now, self._pause_until)
            if self._all:
                at = max(at, self._all[-1][0])  # first come, first served: windows stay sorted
            if len(sent) >= limits.per_route:
                at = max(at, sent[-limits.per_route][0] + limits.route_window + limits.guard)
            if len(self._all) >= limits.total:
                at = max(at, self._all[-limits.total][0] + limits.total_window + limits.guard)
            ticket = [at]  # its entry in the route's and the account's windows
            sent.append(ticket)
            self._all.append(ticket)
        if at > now:
            self._sleep(at - now)
        with self._cond:
            # A thread that overslept, or waited for the CPU, sends later than reserved: count
            # the request when it leaves, or the one 40 after it could reach Neon too soon.
            ticket[0] = max(ticket[0], self._clock())
        return ticket

    def release(
        self,
        status: int | None,
        elapsed: float,
        pause: bool = False,
        ticket: list[float] | None = None,
    ) -> None:
        """`pause`: a 429 without Retry-After; hold every route back a moment, until Neon's
        window has likely moved on (the refused request's retry waits its own backoff).
        The request counts in the windows from its answer on: Neon saw it at some point
        before that, and on a busy machine a thread can stall long enough between our clock
        and the socket for the send time to be too early a guess (a 429 costs far more)."""
        with self._cond:
            if ticket is not None:
                ticket[0] = max(ticket[0], self._clock())
            self._in_flight -= 1
            if status == 429:
                self.throttled += 1
                self.window = max(1.0, self.window / 2)
                if pause:
                    self._pause_until = self._clock() + self.limits.route_window / 10
            elif status is not None and status < 500 and elapsed < self.limits.slow:
                self.window = min(self.limits.ceiling, self.window + 1 / self.window)
            self._cond.notify_all()


class LimitedTransport(httpx.BaseTransport):
    """Every request through the limiter; the answer's status and time feed its AIMD."""

    def __init__(self, inner: httpx.BaseTransport, limiter: Limiter) -> None:
        self._inner, self._limiter = inner, limiter

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        ticket = self._limiter.acquire(route_of(request.method, request.url.path))
        started = time.monotonic()
        status: int | None = None
        pause = False
        try:
            response = self._inner.handle_request(request)
            status = response.status_code
            pause = status == 429 and "retry-after" not in response.headers
            return response
        finally:
            self._limiter.release(status, time.monotonic() - started, pause, ticket)

    def close(self) -> None:
        self._inner.close()


def _forget(sent: deque[list[float]], before: float) -> None:
    while sent and sent[0][0] <= before:
        sent.popleft()
