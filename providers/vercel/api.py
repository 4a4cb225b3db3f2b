"""The Vercel REST calls neon-sync makes, with Vercel's error shape, rate limits and hints."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from neon_sync import http
from neon_sync.errors import ConfigError
from neon_sync.providers.vercel.options import Spec
from neon_sync.secret import Secret, scrub

DEFAULT_API_URL = "https://api.vercel.com"
SERVICE = "Vercel"
Env = dict[str, Any]


def parse_error(response: httpx.Response) -> tuple[str, str | None, str | None]:
    """Vercel answers `{"error": {"code", "message"}}`; show both (codes like ENV_CONFLICT
    are what users search for)."""
    message, code, request_id = http.json_message(response)
    text = f"{message} ({code})" if code and code not in message else message
    return scrub(text), code, request_id or response.headers.get("x-vercel-id")


def _error(response: httpx.Response) -> dict[str, Any]:
    try:
        body = json.loads(response.read() or b"null")
    except ValueError:
        return {}
    inner = body.get("error") if isinstance(body, dict) else None
    return inner if isinstance(inner, dict) else {}


def rate_limit_wait(response: httpx.Response) -> float | None:
    """Seconds until a 429's `limit.reset` (epoch seconds; resetMs when given)."""
    limit = _error(response).get("limit")
    if not isinstance(limit, dict):
        return None
    reset_ms, reset = limit.get("resetMs"), limit.get("reset")
    if isinstance(reset_ms, int | float):
        return max(0.0, reset_ms / 1000 - time.time())
    if isinstance(reset, int | float):
        return max(0.0, reset - time.time())
    return None


def policy(retry: http.Retry) -> http.RetryPolicy:
    fallback = http.default_policy(retry)

    def decide(response: httpx.Response, attempt: int) -> float | None:
        if response.status_code != 429:
            return fallback(response, attempt)
        wait = rate_limit_wait(response)
        if wait is None:
            wait = http.retry_after(response)
        # A reset already passed still needs a moment: retry after the backoff.
        return wait if wait else retry.backoff(attempt)

    return decide


def _hint(spec: Spec) -> Callable[[httpx.Response], str | None]:
    def hint(response: httpx.Response) -> str | None:
        error, status = _error(response), response.status_code
        if status == 401 or error.get("invalidToken") or error.get("missingToken"):
            return (
                "VERCEL_TOKEN was refused (mistyped, expired or revoked); create a token at "
                "https://vercel.com/account/tokens and export it as VERCEL_TOKEN"
            )
        if status == 403:
            if spec.team:
                return (
                    f"The token cannot act for team {spec.team!r}: check `team` "
                    "(or VERCEL_TEAM_ID) and that the token's scope includes that team"
                )
            return (
                "The token cannot reach this project; if it belongs to a team, set `team` "
                "on the target (or VERCEL_TEAM_ID)"
            )
        if status == 404 and error.get("message", "").lower().startswith("project"):
            where = f"team {spec.team!r}" if spec.team else "the token's personal account"
            return f"No project {spec.project!r} in {where}: check `project` (name or prj_ id)" + (
                "" if spec.team else "; a team's project needs `team` (or VERCEL_TEAM_ID)"
            )
        if status == 429:
            wait = rate_limit_wait(response)
            when = datetime.fromtimestamp(time.time() + (wait or 60), UTC).strftime("%H:%M:%S")
            return f"Vercel's rate limit holds until {when} UTC; run again after that"
        return None

    return hint


class VercelApi:
    def __init__(self, env: Mapping[str, str], transport: Any, sleep: Any) -> None:
        token = env.get("VERCEL_TOKEN")
        if not token:
            raise ConfigError(
                "VERCEL_TOKEN is not set; create a token at https://vercel.com/account/tokens "
                "and export it (or put it in the .env file beside the config)"
            )
        Secret(token)  # remembered, so scrub() masks it wherever it might show up
        retry = http.Retry()
        self.client = http.make_client(
            env.get("VERCEL_API_URL") or DEFAULT_API_URL,
            what="VERCEL_API_URL",
            headers={"authorization": f"Bearer {token}"},
            transport=transport,
            retry=retry,
            policy=policy(retry),
            sleep=sleep or time.sleep,
        )

    def _call(self, spec: Spec, method: str, url: str, action: str, **kwargs: Any) -> Any:
        params = {**kwargs.pop("params", {}), **spec.team_query}
        response = http.call(
            self.client,
            method,
            url,
            service=SERVICE,
            action=action,
            hint=_hint(spec),
            parse_error=parse_error,
            params=params,
            **kwargs,
        )
        return response.json()

    def list_envs(self, spec: Spec) -> list[Env]:
        body = self._call(
            spec,
            "GET",
            f"/v10/projects/{spec.project}/env",
            f"list the env vars of project {spec.project!r}",
            params={"decrypt": "true"},
        )
        envs = body.get("envs", []) if isinstance(body, dict) else body
        return [env for env in envs if isinstance(env, dict)]

    def upsert(self, spec: Spec, items: Sequence[Env]) -> tuple[list[Env], list[dict[str, Any]]]:
        """One batched create-or-update, for any environments and Git branches of the
        project; (created, failed). Vercel documents no limit on the batch's length. A batch
        where nothing was created comes back as a 400 whose body still lists each failure."""
        action = f"write env vars of {spec.project_label}"
        url = f"/v10/projects/{spec.project}/env"
        params = {"upsert": "true", **spec.team_query}
        response = http.call(
            self.client,
            "POST",
            url,
            service=SERVICE,
            action=action,
            ok=lambda r: r.is_success or (r.status_code == 400 and "failed" in _error(r)),
            hint=_hint(spec),
            parse_error=parse_error,
            params=params,
            json=list(items),
        )
        body = response.json()
        if not response.is_success:
            return [], list(body["error"]["failed"])
        created = body.get("created", [])
        return ([created] if isinstance(created, dict) else list(created)), list(
            body.get("failed") or []
        )

    def edit(self, spec: Spec, env_id: str, key: str, changes: Mapping[str, Any]) -> Env:
        url = f"/v9/projects/{spec.project}/env/{env_id}"
        action = f"edit {key} in project {spec.project!r}"
        result: Env = self._call(spec, "PATCH", url, action, json=dict(changes))
        return result

    def delete(self, spec: Spec, ids: Sequence[str], keys: Sequence[str]) -> None:
        action = f"delete {', '.join(sorted(set(keys)))} in project {spec.project!r}"
        if len(ids) == 1:
            self._call(spec, "DELETE", f"/v9/projects/{spec.project}/env/{ids[0]}", action)
        else:
            url = f"/v1/projects/{spec.project}/env"
            self._call(spec, "DELETE", url, action, json={"ids": list(ids)})

    def redeploy_latest(self, spec: Spec, target: str) -> tuple[str, str] | None:
        """Redeploy the newest deployment of `target` (and the scope's Git branch);
        (old id, new id), or None when there is nothing to redeploy."""
        query = {"projectId": spec.project, "target": target, "limit": "1"}
        if spec.git_branch:
            query["branch"] = spec.git_branch
        action = f"find the latest {target} deployment of project {spec.project!r}"
        found = self._call(spec, "GET", "/v6/deployments", action, params=query)
        deployments = found.get("deployments") or []
        if not deployments:
            return None
        latest = deployments[0]
        body: dict[str, Any] = {
            "name": latest.get("name") or spec.project,
            "deploymentId": latest["uid"],
            "meta": {"action": "redeploy"},
        }
        if target == "production":
            body["target"] = "production"  # previews are deployments without a target
        action = f"redeploy {latest['uid']} of project {spec.project!r}"
        made = self._call(
            spec, "POST", "/v13/deployments", action, params={"forceNew": "1"}, json=body
        )
        return str(latest["uid"]), str(made.get("id") or made.get("uid"))

    def close(self) -> None:
        self.client.close()
