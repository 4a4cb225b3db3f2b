"""An in-memory Vercel API: projects, teams, project env vars and deployments.

Answers as api.vercel.com does for the calls neon-sync makes (see
the shared specs' vercel-env-api.md): `{"error": {"code", "message"}}` bodies, team projects
reachable only with their `teamId` (or `slug`), env var rules (gitBranch only with the preview
target alone, sensitive never readable and never for development, ENV_ALREADY_EXISTS on a
create without upsert, ENV_CONFLICT on an upsert whose target set differs), batch create with
`created`/`failed`, and deployments that can be redeployed.
"""

from __future__ import annotations

import random
import time
from typing import Any

import httpx

from neon_sync.emulators.base import json_response
from neon_sync.emulators.limits import Window
from neon_sync.emulators.vercel_projects import Project, VercelProjects
from neon_sync.emulators.vercel_rules import Refused, parse_json, validate

_CODES = {400: "bad_request", 401: "forbidden", 403: "forbidden", 404: "not_found"}
_P = r"/projects/(?P<project>[^/]+)"


class VercelEmulator(VercelProjects):
    def __init__(self, token: str = "vt_test", seed: int = 0) -> None:  # noqa: S107
        super().__init__()
        self.tokens = {token}
        self.teams = {}
        self.member_of = set()
        self.projects = {}
        self._random = random.Random(seed)
        self._clock = 0
        for method, pattern, handler in [
            ("GET", r"/v9" + _P, self._get_project),
            ("GET", r"/v10" + _P + r"/env", self._list_env),
            ("GET", r"/v1" + _P + r"/env/(?P<env_id>[^/]+)", self._get_env),
            ("POST", r"/v10" + _P + r"/env", self._create_env),
            ("PATCH", r"/v9" + _P + r"/env/(?P<env_id>[^/]+)", self._edit_env),
            ("DELETE", r"/v9" + _P + r"/env/(?P<env_id>[^/]+)", self._delete_env),
            ("DELETE", r"/v1" + _P + r"/env", self._batch_delete_env),
            ("GET", r"/v6/deployments", self._list_deployments),
            ("POST", r"/v13/deployments", self._redeploy),
        ]:
            self.route(method, pattern, self._guarded(handler))

    # -- builder API -------------------------------------------------------------------

    def add_team(self, team_id: str, slug: str | None = None, member: bool = True) -> str:
        self.teams[team_id] = slug or team_id.removeprefix("team_")
        if member:
            self.member_of.add(team_id)
        return team_id

    def add_project(self, name: str, team: str | None = None) -> str:
        """Create a project (in `team`, a team id, when given); return its prj_ id."""
        if team is not None and team not in self.teams:
            self.add_team(team)
        project = Project(self._id("prj_", 28), name, team)
        self.projects[project.id] = project
        return project.id

    def add_env(
        self,
        project: str,
        key: str,
        value: str,
        target: list[str] | str,
        *,
        type: str = "encrypted",
        git_branch: str | None = None,
        comment: str | None = None,
    ) -> str:
        """Seed a variable as if made in the dashboard (e.g. one for preview+development)."""
        targets = [target] if isinstance(target, str) else list(target)
        item: dict[str, Any] = {"key": key, "value": value, "type": type, "target": targets}
        item["comment"] = comment
        if git_branch:
            item["gitBranch"] = git_branch
        record = self._store(self._project_named(project), validate(item), upsert=False)
        return str(record["id"])

    def add_deployment(self, project: str, target: str | None = None, branch: str = "main") -> str:
        """A deployment of `project` (target "production", or None for a preview)."""
        proj = self._project_named(project)
        uid = self._id("dpl_", 28)
        now = self._now()
        proj.deployments.insert(0, {
            "uid": uid, "name": proj.name, "url": f"{proj.name}-{uid[4:13].lower()}.vercel.app",
            "created": now, "createdAt": now, "state": "READY", "readyState": "READY",
            "target": target, "projectId": proj.id, "source": "git",
            "meta": {"githubCommitRef": branch},
        })  # fmt: skip
        return uid

    def envs(self, project: str) -> list[dict[str, Any]]:
        """Copies of a project's variables, values in clear, for assertions."""
        return [dict(record) for record in self._project_named(project).envs]

    def rate_limit(self, times: int = 1, reset_in: float = 2.0, path: str | None = None) -> None:
        """Answer the next `times` requests with 429 rate_limited, reset `reset_in` s from now."""
        reset_ms = int((time.time() + reset_in) * 1000)
        limit = {"remaining": 0, "reset": reset_ms // 1000, "resetMs": reset_ms, "total": 100}
        body = {"error": {"code": "rate_limited", "message": "Rate limit exceeded", "limit": limit}}
        headers = {"x-ratelimit-limit": "100", "x-ratelimit-remaining": "0"}
        headers["x-ratelimit-reset"] = str(limit["reset"])
        self.inject(429, times=times, path=path, headers=headers, body=body)

    def rate_limited(self, window: Window, wait: float) -> httpx.Response:
        reset_ms = int((time.time() + wait) * 1000)
        limit = {"remaining": 0, "reset": reset_ms // 1000, "resetMs": reset_ms}
        limit["total"] = window.limit
        body = {"error": {"code": "rate_limited", "message": "Rate limit exceeded", "limit": limit}}
        headers = {"x-ratelimit-limit": str(window.limit), "x-ratelimit-remaining": "0"}
        headers["x-ratelimit-reset"] = str(limit["reset"])
        return json_response(429, body, headers)

    # -- the service's shape -----------------------------------------------------------

    def error(self, status: int, message: str, **extra: Any) -> httpx.Response:
        code = _CODES.get(status, "rate_limited" if status == 429 else "internal_server_error")
        return json_response(status, {"error": {"code": code, "message": message, **extra}})

    def authorize(self, request: httpx.Request) -> httpx.Response | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return self.error(
                403, "The request is missing an authentication token", missingToken=True
            )
        if token not in self.tokens:
            return self.error(403, "Not authorized", invalidToken=True)
        return None

    def _guarded(self, handler: Any) -> Any:
        def run(request: httpx.Request, **params: str) -> httpx.Response:
            try:
                response: httpx.Response = handler(request, **params)
            except Refused as refused:
                return json_response(refused.status, refused.body())
            return response

        return run

    # -- deployment handlers -----------------------------------------------------------

    def _list_deployments(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        found = self._project(request, params.get("projectId", ""))
        target = params.get("target")
        branch = params.get("branch")
        limit = int(params.get("limit", "20"))
        chosen = [
            dep
            for dep in found.deployments
            if (target is None or (dep["target"] or "preview") == target)
            and (branch is None or dep["meta"].get("githubCommitRef") == branch)
        ][:limit]
        page = {"count": len(chosen), "next": None, "prev": None}
        return json_response(200, {"deployments": chosen, "pagination": page})

    def _redeploy(self, request: httpx.Request) -> httpx.Response:
        body = parse_json(request)
        if not isinstance(body, dict) or not body.get("name"):
            raise Refused(400, "bad_request", "Invalid request: missing required property `name`")
        proj = self._project(request, str(body["name"]))
        source = next((d for d in proj.deployments if d["uid"] == body.get("deploymentId")), None)
        if source is None:
            raise Refused(404, "not_found", "Deployment not found")
        uid = self.add_deployment(
            proj.id, body.get("target"), source["meta"].get("githubCommitRef", "main")
        )
        new = proj.deployments[0]
        new.update(readyState="QUEUED", state="QUEUED", source="redeploy")
        new["meta"] = {**source["meta"], "action": "redeploy"}
        return json_response(200, {**new, "id": uid})
