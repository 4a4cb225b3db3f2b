"""Check the HTTP traffic of tests against a service's OpenAPI 3 file (openapi-core).

    app = validating(emulator.handle, SPECS / "neon-api-v2.yaml", server_prefix="/api/v2")
    client = NeonClient(..., transport=httpx.MockTransport(app))

Every request the client sends is checked (path, method, path/query/header parameters, JSON
body) and an AssertionError names the violation; with `responses=True` (the default) the
emulator's answer is checked against the documented response too, so the emulator cannot drift
from the real service's shapes. Specs are parsed once per test session (they are large).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import yaml
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from neon_sync.emulators.base import FAULT_HEADER

SPECS = Path(__file__).parent / "specs"
App = Callable[[httpx.Request], httpx.Response]

# The spec's servers are replaced by this one, so a request validates whatever host it was sent
# to (an in-process emulator, a loopback port); only the path prefix after the host matters.
_HOST = "http://emulator"


@functools.cache
def _load(spec_path: str, server_prefix: str) -> OpenAPI:
    path = Path(spec_path)
    text = path.read_text(encoding="utf-8")
    # CSafeLoader: the Neon spec is 430 KB and the pure-Python loader takes seconds.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loaded = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=loader)
    # A JSON round trip turns YAML's integer keys (`200:`) and dates into the strings the
    # validator expects.
    spec: dict[str, Any] = json.loads(json.dumps(loaded, default=str))
    spec["servers"] = [{"url": _HOST + server_prefix}]
    return OpenAPI.from_dict(spec)


def openapi(spec_path: str | Path, server_prefix: str = "") -> OpenAPI:
    """The parsed spec, cached for the session."""
    return _load(str(spec_path), server_prefix)


class _Request:
    """An httpx.Request as openapi-core's Request protocol sees it."""

    def __init__(self, request: httpx.Request) -> None:
        self._request = request
        raw = request.url.raw_path.decode("ascii")
        parts = urlsplit(raw)
        # The raw (still percent-encoded) path, so a role named "a/b" stays one path segment.
        self._path = parts.path
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(parse_qs(parts.query, keep_blank_values=True)),
            header=Headers(list(request.headers.multi_items())),
            cookie=ImmutableMultiDict(),
        )

    @property
    def host_url(self) -> str:
        return _HOST

    @property
    def path(self) -> str:
        return self._path

    @property
    def method(self) -> str:
        return self._request.method.lower()

    @property
    def body(self) -> bytes | None:
        content = self._request.read()
        return content or None

    @property
    def content_type(self) -> str:
        return str(self._request.headers.get("content-type", "application/json")).lower()


class _Response:
    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status_code(self) -> int:
        return self._response.status_code

    @property
    def content_type(self) -> str:
        return str(self._response.headers.get("content-type", "")).lower()

    @property
    def headers(self) -> Headers:
        return Headers(list(self._response.headers.multi_items()))

    @property
    def data(self) -> bytes | None:
        return self._response.read() or None


def _describe(exc: Exception) -> str:
    # openapi-core nests the useful part (which field, which rule) in __cause__ / schema_errors.
    parts = [f"{type(exc).__name__}: {exc}"]
    for error in getattr(exc, "schema_errors", ()) or ():
        parts.append(f"  {'/'.join(map(str, error.absolute_path))}: {error.message}")
    cause = exc.__cause__
    while cause is not None:
        parts.append(f"  caused by {type(cause).__name__}: {cause}")
        for error in getattr(cause, "schema_errors", ()) or ():
            parts.append(f"    {'/'.join(map(str, error.absolute_path))}: {error.message}")
        cause = cause.__cause__
    return "\n".join(parts)


def check_request(spec: OpenAPI, request: httpx.Request) -> None:
    """Raise AssertionError when `request` breaks the spec."""
    try:
        spec.validate_request(_Request(request))
    except Exception as exc:
        where = f"{request.method} {request.url.raw_path.decode()}"
        raise AssertionError(f"{where} does not conform to the spec:\n{_describe(exc)}") from None


def check_response(spec: OpenAPI, request: httpx.Request, response: httpx.Response) -> None:
    """Raise AssertionError when `response` (to `request`) breaks the spec."""
    try:
        spec.validate_response(_Request(request), _Response(response))
    except Exception as exc:
        where = f"{response.status_code} answer to {request.method} {request.url.path}"
        raise AssertionError(f"{where} does not conform to the spec:\n{_describe(exc)}") from None


def validating(
    app: App,
    spec_path: str | Path,
    server_prefix: str = "/api/v2",
    *,
    responses: bool = True,
) -> App:
    """Wrap `app` (an emulator's handle) so each request, and with `responses` each answer,
    is checked against the spec at `spec_path`. Requests must start with `server_prefix`."""
    spec = openapi(spec_path, server_prefix)

    def handle(request: httpx.Request) -> httpx.Response:
        if not request.url.path.startswith(server_prefix + "/"):
            raise AssertionError(f"{request.url} is not under {server_prefix}/")
        check_request(spec, request)
        response = app(request)
        if responses and FAULT_HEADER not in response.headers:  # a fault is off-spec on purpose
            check_response(spec, request, response)
        return response

    return handle
