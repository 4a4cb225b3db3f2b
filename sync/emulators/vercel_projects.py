"""The Vercel emulator's projects, looked up as the API does (teamId or slug), their env var
routes (list, read, create/upsert, edit, delete, batch delete) and the rules a write must pass."""

from __future__ import annotations

import random
import string
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from neon_sync.emulators.base import Emulator, json_response
from neon_sync.emulators.vercel_rules import (
    Refused,
    conflict_message,
    exists_message,
    overlaps,
    parse_json,
    render,
    validate,
)


@dataclass
class Project:
    id: str
    name: str
    team: str | None
    envs: list[dict[str, Any]] = field(default_factory=list)
    deployments: list[dict[str, Any]] = field(default_factory=list)


class VercelProjects(Emulator):
    """Project lookup, ids and clock, and the env var handlers a VercelEmulator registers."""

    teams: dict[str, str]  # team id -> slug
    member_of: set[str]  # teams the tokens may act for
    projects: dict[str, Project]
    _random: random.Random
    _clock: int

    # -- lookup ------------------------------------------------------------------------

    def _project(self, request: httpx.Request, id_or_name: str) -> Project:
        params = request.url.params
        team = params.get("teamId")
        if team is None and params.get("slug"):
            team = next((t for t, s in self.teams.items() if s == params["slug"]), "?")
        if team is not None and team not in self.member_of:
            raise Refused(403, "forbidden", "You don't have permission to access this team")
        for project in self.projects.values():
            if id_or_name in (project.id, project.name) and project.team == team:
                return project
        raise Refused(404, "not_found", "Project not found")

    def _project_named(self, id_or_name: str) -> Project:
        for project in self.projects.values():
            if id_or_name in (project.id, project.name):
                return project
        raise KeyError(id_or_name)

    # -- handlers ----------------------------------------------------------------------

    def _get_project(self, request: httpx.Request, project: str) -> httpx.Response:
        proj = self._project(request, project)
        body = {"id": proj.id, "name": proj.name, "accountId": proj.team or "user_emulated"}
        return json_response(200, body)

    def _list_env(self, request: httpx.Request, project: str) -> httpx.Response:
        proj = self._project(request, project)
        decrypt = request.url.params.get("decrypt") == "true"
        branch = request.url.params.get("gitBranch")
        envs = [
            render(record, decrypt)
            for record in proj.envs
            if branch is None or record.get("gitBranch") in (None, branch)
        ]
        return json_response(
            200, {"envs": envs, "pagination": {"count": len(envs), "next": None, "prev": None}}
        )

    def _get_env(self, request: httpx.Request, project: str, env_id: str) -> httpx.Response:
        return json_response(200, render(self._env(request, project, env_id), decrypt=True))

    def _create_env(self, request: httpx.Request, project: str) -> httpx.Response:
        proj = self._project(request, project)
        body = parse_json(request)
        single = isinstance(body, dict)
        items = [body] if single else body
        if not isinstance(items, list) or not items:
            raise Refused(400, "bad_request", "Invalid request: body must be an object or array")
        checked = [validate(item) for item in items]  # a malformed item refuses the whole batch
        upsert = request.url.params.get("upsert") == "true"
        created: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        for item in checked:
            try:
                created.append(render(self._store(proj, item, upsert), decrypt=False))
            except Refused as refused:
                if single:
                    raise
                where = {"key": item["key"], "target": item["target"]}
                if item.get("gitBranch"):
                    where["gitBranch"] = item["gitBranch"]
                failed.append(refused.body(**where))
        if not created:
            none = Refused(400, "bad_request", "No environment variables were created")
            return json_response(400, none.body(failed=failed))
        return json_response(201, {"created": created[0] if single else created, "failed": failed})

    def _edit_env(self, request: httpx.Request, project: str, env_id: str) -> httpx.Response:
        record = self._env(request, project, env_id)
        proj = self._project(request, project)
        body = parse_json(request)
        if not isinstance(body, dict):
            raise Refused(400, "bad_request", "Invalid request: body must be an object")
        merged = validate({**record, **body})
        if merged["type"] != record["type"]:
            raise Refused(400, "bad_request", "The type of an environment variable cannot change")
        if any(overlaps(other, merged) for other in proj.envs if other is not record):
            raise Refused(400, "ENV_CONFLICT", exists_message(merged))
        record.update({k: v for k, v in merged.items() if v is not None})
        if not merged.get("gitBranch"):
            record.pop("gitBranch", None)
        record["updatedAt"] = self._now()
        return json_response(200, render(record, decrypt=False))

    def _delete_env(self, request: httpx.Request, project: str, env_id: str) -> httpx.Response:
        record = self._env(request, project, env_id)
        self._project(request, project).envs.remove(record)
        return json_response(200, render(record, decrypt=False))

    def _batch_delete_env(self, request: httpx.Request, project: str) -> httpx.Response:
        proj = self._project(request, project)
        body = parse_json(request)
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not ids:
            raise Refused(400, "bad_request", "Invalid request: `ids` must be a non-empty array")
        gone = [record for record in proj.envs if record["id"] in ids]
        for record in gone:
            proj.envs.remove(record)
        return json_response(200, {"deleted": len(gone), "ids": [r["id"] for r in gone]})

    # -- env var rules -----------------------------------------------------------------

    def _env(self, request: httpx.Request, project: str, env_id: str) -> dict[str, Any]:
        for record in self._project(request, project).envs:
            if record["id"] == env_id:
                return record
        raise Refused(404, "not_found", "Environment Variable not found")

    def _store(self, proj: Project, item: dict[str, Any], upsert: bool) -> dict[str, Any]:
        clashes = [record for record in proj.envs if overlaps(record, item)]
        if clashes and not upsert:
            raise Refused(403, "ENV_ALREADY_EXISTS", exists_message(item))
        if clashes:
            same = len(clashes) == 1 and sorted(clashes[0]["target"]) == sorted(item["target"])
            if not same:
                raise Refused(400, "ENV_CONFLICT", conflict_message(item))
            record = clashes[0]
            if record["type"] != item["type"]:
                raise Refused(
                    400, "bad_request", "The type of an environment variable cannot change"
                )
            record.update(value=item["value"], updatedAt=self._now())
            if item.get("comment") is not None:
                record["comment"] = item["comment"]
            return record
        now = self._now()
        record = {"id": self._id("", 16), **{k: v for k, v in item.items() if v is not None}}
        record.update(createdAt=now, updatedAt=now, configurationId=None, createdBy="emulated")
        proj.envs.append(record)
        return record

    def _now(self) -> int:
        # Milliseconds, strictly increasing so every write gets a new change marker.
        self._clock = max(self._clock + 1, int(time.time() * 1000))
        return self._clock

    def _id(self, prefix: str, length: int) -> str:
        alphabet = string.ascii_letters + string.digits
        return prefix + "".join(self._random.choice(alphabet) for _ in range(length))
