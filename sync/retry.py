"""Retries for every HTTP client neon-sync makes: backoff with jitter, honouring Retry-After
and the service's own rate-limit headers, bounded; and the per-run stop for a service that
asks for a longer wait than a run accepts (nothing more is sent to it)."""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

RETRY_STATUSES = frozenset({423, 429, 502, 503, 504})
# A 502/504 may come after the service acted: repeat only requests that are safe to repeat.
# 423, 429 and 503 mean the request was refused before it was carried out.
AMBIGUOUS_STATUSES = frozenset({502, 504})
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Reads change nothing: a 500 or a read that timed out is worth another try.
READS = frozenset({"GET", "HEAD", "OPTIONS"})
READ_RETRY_STATUSES = frozenset({500})

# A policy looks at a response and returns how long to wait before retrying it, or None to
# give up on retrying this response. `attempt` counts from 0.
RetryPolicy = Callable[[httpx.Response, int], "float | None"]
Sleep = Callable[[float], None]


@dataclass(frozen=True)
class Retry:
    attempts: int = 5  # total tries, the first included
    base: float = 0.5  # first backoff, doubled each time, with full jitter
    cap: float = 30.0  # the longest single wait we accept
    statuses: frozenset[int] = RETRY_STATUSES

    def backoff(self, attempt: int) -> float:
        return random.uniform(self.base, min(self.cap, self.base * 2**attempt))


def retry_after(response: httpx.Response) -> float | None:
    """Seconds from a Retry-After header (delta or HTTP date), if any."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time())


def default_policy(retry: Retry) -> RetryPolicy:
    def policy(response: httpx.Response, attempt: int) -> float | None:
        if response.status_code not in retry.statuses:
            return None
        return retry_after(response) or retry.backoff(attempt)

    return policy


class RetryTransport(httpx.BaseTransport):
    """Retries idempotent failures: connection errors and responses the policy accepts."""

    def __init__(
        self,
        inner: httpx.BaseTransport,
        retry: Retry,
        policy: RetryPolicy,
        sleep: Sleep = time.sleep,
    ) -> None:
        self._inner = inner
        self._retry = retry
        self._policy = policy
        self._sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()  # so the body can be sent again
        host = request.url.netloc.decode("ascii", "replace")
        _check_not_stopped(host)
        for attempt in range(self._retry.attempts):
            last = attempt == self._retry.attempts - 1
            try:
                response = self._inner.handle_request(request)
            except (
                httpx.ConnectError,
                httpx.ConnectTimeout,
                httpx.RemoteProtocolError,
                httpx.ReadTimeout,
                httpx.ReadError,
            ) as exc:
                # A dropped connection may hide a write that went through: only connecting
                # failed for sure, so only then repeat a POST or PATCH. A read that timed out
                # or broke off is repeated only for reads.
                unsent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                broken = isinstance(exc, httpx.ReadTimeout | httpx.ReadError)
                repeatable = request.method in (READS if broken else IDEMPOTENT)
                if last or not (unsent or repeatable):
                    raise
                self._sleep(self._retry.backoff(attempt))
                continue
            ambiguous = response.status_code in AMBIGUOUS_STATUSES
            if last or (ambiguous and request.method not in IDEMPOTENT):
                return response
            if response.status_code in READ_RETRY_STATUSES and request.method in READS:
                wait: float | None = self._retry.backoff(attempt)
            else:
                wait = self._policy(response, attempt)
            if wait is None:
                return response
            if wait > self._retry.cap:
                # A rate limit that outlasts our patience: report it, and send this service
                # nothing more in this run (more requests would only extend the penalty).
                _stop(host, wait)
                return response
            response.read()
            response.close()
            self._sleep(wait)
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._inner.close()


class RateLimitStop(httpx.TransportError):
    """A service asked for a longer wait than a run accepts; no request goes to it until then."""

    def __init__(self, host: str, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(f"{host} asked to wait {seconds:.0f}s")


_stopped: dict[str, float] = {}  # host -> monotonic time until which nothing is sent there
_stopped_lock = threading.Lock()


def _stop(host: str, seconds: float) -> None:
    with _stopped_lock:
        _stopped[host] = max(_stopped.get(host, 0.0), time.monotonic() + seconds)


def _check_not_stopped(host: str) -> None:
    with _stopped_lock:
        until = _stopped.get(host, 0.0)
    left = until - time.monotonic()
    if left > 0:
        raise RateLimitStop(host, left)


def forget_rate_limits() -> None:
    """Forget every stop (a new run in the same process: tests, the watcher's next pass)."""
    with _stopped_lock:
        _stopped.clear()
