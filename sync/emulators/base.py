"""What every emulator shares: routing, a request log, fault injection and latency.

An emulator is a plain object with `handle(request) -> response`; use it in-process with
`httpx.MockTransport(emulator.handle)` or over loopback HTTP with `emulators.server.serve`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from neon_sync.emulators.limits import RateLimits, Window

Handler = Callable[..., httpx.Response]


@dataclass(frozen=True)
class Logged:
    method: str
    path: str
    query: dict[str, str]
    body: Any  # parsed JSON, or None
    status: int

    @property
    def is_write(self) -> bool:
        return self.method not in {"GET", "HEAD", "OPTIONS"}


@dataclass
class Fault:
    status: int
    times: int = 1
    method: str | None = None
    path: str | None = None  # a regex searched in the path
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


def json_response(
    status: int, body: Any = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    if body is None:
        return httpx.Response(status, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


class Emulator:
    """Subclasses register routes with `self.route("GET", r"/projects/(?P<project_id>[^/]+)", fn)`;
    handlers receive (request, **path_params) and return an httpx.Response."""

    def __init__(self) -> None:
        self.log: list[Logged] = []
        self.faults: list[Fault] = []
        self.latency = 0.0
        self.limits: RateLimits | None = None  # published rate limits, when enforced
        self.lock = threading.RLock()
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile(pattern + r"/?$"), handler))

    def inject(
        self,
        status: int,
        *,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """Answer the next `times` matching requests with `status` instead of serving them."""
        with self.lock:
            self.faults.append(Fault(status, times, method, path, dict(headers or {}), body))

    @property
    def writes(self) -> list[Logged]:
        return [entry for entry in self.log if entry.is_write]

    def error(self, status: int, message: str, **extra: Any) -> httpx.Response:
        """The service's error body; subclasses override to match their API's shape."""
        return json_response(status, {"message": message, **extra})

    def authorize(self, request: httpx.Request) -> httpx.Response | None:
        """Return an error response when the request's credentials are refused."""
        return None

    def rate_limited(self, window: Window, wait: float) -> httpx.Response:
        """The service's answer to a request over one of its published limits."""
        return self.error(429, f"rate limit exceeded ({window.what})")

    def enforce_limits(
        self, windows: Sequence[Window], clock: Callable[[], float] = time.monotonic
    ) -> RateLimits:
        """Refuse requests over these limits from now on, as the service would."""
        self.limits = RateLimits(windows, clock)
        return self.limits

    def handle(self, request: httpx.Request) -> httpx.Response:
        # Counted on arrival, as the service does; the answer still takes the latency.
        over = self.limits.admit(request.method, self._route(request)) if self.limits else None
        if self.latency:
            time.sleep(self.latency)
        path = request.url.path
        body = _parse_body(request)
        query = dict(request.url.params.multi_items())
        with self.lock:
            response = self.rate_limited(*over) if over else None
            response = response or self._fault(request.method, path) or self.authorize(request)
            if response is None:
                response = self._dispatch(request, path)
            self.log.append(Logged(request.method, path, query, body, response.status_code))
        return response

    def _route(self, request: httpx.Request) -> str:
        raw = request.url.raw_path.decode("ascii").partition("?")[0]
        for method, pattern, _handler in self._routes:
            if method == request.method and pattern.match(raw):
                return f"{method} {pattern.pattern}"
        return f"{request.method} {raw}"

    def _fault(self, method: str, path: str) -> httpx.Response | None:
        for fault in self.faults:
            if fault.method and fault.method != method:
                continue
            if fault.path and not re.search(fault.path, path):
                continue
            fault.times -= 1
            if fault.times <= 0:
                self.faults.remove(fault)
            if fault.body is not None:
                return json_response(fault.status, fault.body, fault.headers)
            response = self.error(fault.status, "injected fault")
            response.headers.update(fault.headers)
            return response
        return None

    def _dispatch(self, request: httpx.Request, path: str) -> httpx.Response:
        allowed = False
        for method, pattern, handler in self._routes:
            match = pattern.match(path)
            if not match:
                continue
            if method != request.method:
                allowed = True
                continue
            return handler(request, **match.groupdict())
        if allowed:
            return self.error(405, "method not allowed")
        return self.error(404, "not found")


def _parse_body(request: httpx.Request) -> Any:
    raw = request.read()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")
