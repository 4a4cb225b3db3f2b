"""Talking to Neon's API for one project: the key and project id checked once, one httpx
client behind Neon's rate limiter and the retry transport, errors with hints, and waiting
for the operations a write starts. neon.client builds what neon-sync asks on top of it."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

from neon_sync.errors import ConfigError
from neon_sync.http import Retry, call, make_client
from neon_sync.neon import DEFAULT_API_HOST
from neon_sync.neon.limiter import LimitedTransport, Limiter, Limits
from neon_sync.neon.model import SERVICE, Json, hint, json_of, parse, wait_for
from neon_sync.secret import remember

# Neon answers 423 while another operation runs on the project, which can take a while:
# more attempts than the default, up to about a minute of waiting in all.
RETRY = Retry(attempts=8)
OPERATION_TIMEOUT = 300.0  # seconds we wait, in all, for one write's operations
_PROJECT_ID = re.compile(r"^[a-z0-9-]{1,60}$")


class NeonApi:
    def __init__(
        self,
        api_key: str,
        project_id: str,
        *,
        api_host: str = DEFAULT_API_HOST,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        operation_timeout: float = OPERATION_TIMEOUT,
        limits: Limits | None = None,
    ) -> None:
        if not api_key:
            raise ConfigError(
                "NEON_API_KEY is not set; create an API key in the Neon console and export it "
                "(or put it in a .env file beside the config)"
            )
        if not _PROJECT_ID.match(project_id):
            raise ConfigError(f"{project_id!r} is not a Neon project id (like shiny-wind-028834)")
        remember(api_key)  # so the key is masked should it ever reach output
        self.project_id = project_id
        self._project_path = f"/projects/{project_id}"
        # Threads share one limiter: Neon's limits are per account and route, not per thread.
        self.limiter = Limiter(limits or Limits(), sleep=sleep)
        self._http = make_client(
            api_host,
            what="NEON_API_HOST",
            headers={"authorization": f"Bearer {api_key}", "accept": "application/json"},
            transport=LimitedTransport(transport or httpx.HTTPTransport(), self.limiter),
            retry=RETRY,
            sleep=sleep,
        )
        self._sleep = sleep
        self._operation_timeout = operation_timeout

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _wait(self, operations: list[Any], action: str) -> None:
        def poll(op_id: str) -> Json:
            what = f"check operation {op_id} ({action})"
            body = self._get(f"{self._project_path}/operations/{quote(op_id, safe='')}", what)
            return parse(what, lambda: dict(body["operation"]))

        wait_for(operations, poll, self._sleep, action=action, timeout=self._operation_timeout)

    def _branch_path(self, branch_id: str) -> str:
        return f"{self._project_path}/branches/{quote(branch_id, safe='')}"

    def _role_path(self, branch_id: str, role: str) -> str:
        # A role name may hold any character; %-encoding keeps it one path segment.
        return f"{self._branch_path(branch_id)}/roles/{quote(role, safe='')}"

    def _get(
        self,
        path: str,
        action: str,
        branch_id: str | None = None,
        *,
        role: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> Json:
        response = self._call("GET", path, action, branch_id, role=role, params=params)
        return json_of(response, action)

    def _call(
        self,
        method: str,
        path: str,
        action: str,
        branch_id: str | None = None,
        *,
        role: str | None = None,
        ok: Callable[[httpx.Response], bool] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        def hint_for(response: httpx.Response) -> str | None:
            return hint(response.status_code, self.project_id, branch_id, role)

        return call(
            self._http, method, path, service=SERVICE, action=action, ok=ok, hint=hint_for, **kwargs
        )
