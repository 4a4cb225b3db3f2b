"""The one place neon-sync makes HTTP clients.

Every client gets timeouts, the retry transport of neon_sync.retry, plain http only for
loopback hosts, and one `call()` that maps httpx errors and error statuses to ApiError. Tests
swap the network for an emulator by passing `transport=` (httpx.MockTransport(emulator.handle)).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from neon_sync import __version__
from neon_sync.errors import ApiError, ConfigError
from neon_sync.retry import (
    RateLimitStop,
    Retry,
    RetryPolicy,
    RetryTransport,
    Sleep,
    default_policy,
    forget_rate_limits,
    retry_after,
)

__all__ = ["Retry", "RetryPolicy", "Sleep", "default_policy", "forget_rate_limits", "retry_after"]

USER_AGENT = f"neon-sync/{__version__}"
LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}


@dataclass(frozen=True)
class Settings:
    """Where a service's token and API URL come from, and what to say when the token is
    missing: checked before a run's first request (exit 2), read again by its client."""

    tokens: tuple[str, ...]  # environment variables, first set wins
    url_setting: str
    default_url: str
    missing: str

    def token(self, env: Mapping[str, str]) -> str:
        found = next((env[name] for name in self.tokens if env.get(name)), None)
        if found is None:
            raise ConfigError(self.missing)
        return found

    def url(self, env: Mapping[str, str]) -> str:
        return check_base_url(env.get(self.url_setting) or self.default_url, self.url_setting)

    def check(self, env: Mapping[str, str]) -> None:
        self.token(env)
        self.url(env)


def check_base_url(url: str, what: str) -> str:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ConfigError(f"{what} {url!r} is not a valid URL") from None
    if parts.scheme == "https" and parts.hostname:
        return url.rstrip("/")
    if parts.scheme == "http" and parts.hostname in LOOPBACK:
        return url.rstrip("/")
    raise ConfigError(
        f"{what} {url!r} must be an https:// URL (plain http:// is allowed only for localhost)"
    )


def make_client(
    base_url: str,
    *,
    what: str,
    headers: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
    retry: Retry | None = None,
    policy: RetryPolicy | None = None,
    sleep: Sleep = time.sleep,
    timeout: float = 30.0,
) -> httpx.Client:
    """An httpx client for one service. `what` names the setting the URL came from, for errors."""
    base = check_base_url(base_url, what)
    retry = retry or Retry()
    inner = transport or httpx.HTTPTransport()
    return httpx.Client(
        base_url=base,
        headers={"user-agent": USER_AGENT, **(headers or {})},
        transport=RetryTransport(inner, retry, policy or default_policy(retry), sleep),
        timeout=httpx.Timeout(timeout, connect=10.0),
        follow_redirects=False,
    )


ErrorParser = Callable[[httpx.Response], tuple[str, str | None, str | None]]


def json_message(response: httpx.Response) -> tuple[str, str | None, str | None]:
    """(message, code, request_id) from a JSON error body like {"message": ..., "code": ...}."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    message = code = None
    if isinstance(body, dict):
        inner = body.get("error")
        err: dict[str, Any] = inner if isinstance(inner, dict) else body
        message = err.get("message")
        code = err.get("code")
    text = str(message) if message else (response.reason_phrase or "error")
    request_id = (
        response.headers.get("x-neon-request-id")
        or response.headers.get("x-request-id")
        or response.headers.get("x-github-request-id")
        or response.headers.get("x-vercel-id")
    )
    if isinstance(body, dict) and not request_id:
        rid = body.get("request_id")
        request_id = str(rid) if rid else None
    return " ".join(text.split()), (str(code) if code else None), request_id


def call(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    service: str,
    action: str,
    ok: Callable[[httpx.Response], bool] | None = None,
    hint: Callable[[httpx.Response], str | None] | None = None,
    parse_error: ErrorParser = json_message,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request; return the response if `ok` (default: 2xx), else raise ApiError.
    Network failures (after the transport's retries) become ApiError with status None."""
    try:
        response = client.request(method, url, **kwargs)
    except RateLimitStop as exc:
        raise ApiError(
            service,
            action,
            f"not sent: {service} asked this run to wait {exc.seconds:.0f}s, longer than it "
            "waits; re-run later",
            status=429,
        ) from None
    except httpx.TimeoutException:
        raise ApiError(service, action, "timed out; check your network and try again") from None
    except httpx.HTTPError as exc:
        raise ApiError(
            service, action, f"network error ({type(exc).__name__}); check your network"
        ) from None
    accepted = ok(response) if ok else response.is_success
    if accepted:
        return response
    message, code, request_id = parse_error(response)
    raise ApiError(
        service,
        action,
        message,
        status=response.status_code,
        request_id=request_id,
        code=code,
        hint=hint(response) if hint else None,
    )


def route_of(response: httpx.Response) -> str:
    """`GET /v10/projects/shop/env`: the route an answer came from, for error messages."""
    request = response.request
    return f"{request.method} {request.url.path}"


def json_body(response: httpx.Response, *, service: str, action: str, kind: type = dict) -> Any:
    """The answer's JSON document, which must be a `kind` (dict or list). A sign-in or proxy
    page answered with 200, broken JSON or another shape is an ApiError naming the route."""
    route = route_of(response)
    content_type = response.headers.get("content-type", "").split(";")[0].strip()
    if "json" not in content_type:
        raise ApiError(
            service,
            action,
            f"{route} answered {content_type or 'without a content type'}, not JSON "
            "(a proxy or sign-in page in between?)",
            status=response.status_code,
        )
    try:
        body = response.json()
    except ValueError:
        raise ApiError(
            service, action, f"{route} answered invalid JSON", status=response.status_code
        ) from None
    if not isinstance(body, kind):
        raise ApiError(
            service,
            action,
            f"{route} answered a JSON {type(body).__name__}, not a JSON "
            f"{'object' if kind is dict else kind.__name__}",
            status=response.status_code,
        )
    return body


def shape_error(service: str, action: str, response: httpx.Response, exc: Exception) -> ApiError:
    """An answer that lacks a field or has one of the wrong type."""
    what = f"field {exc.args[0]!r} missing" if isinstance(exc, KeyError) else type(exc).__name__
    return ApiError(service, action, f"{route_of(response)} answered an unexpected shape ({what})")
