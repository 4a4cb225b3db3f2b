"""The Neon emulator's write routes (create/delete branch, reset password) and the operations
they start. Operations are `running` when returned and on their first poll, `finished` (or
`operations_end_as`) from the second poll on, so callers' waits are exercised."""

from __future__ import annotations

import json

import httpx

from neon_sync.emulators.base import json_response
from neon_sync.emulators.neon_json import (
    Json,
    branch_json,
    busy_branches,
    connection_details,
    database_json,
    endpoint_json,
    operation_json,
    role_json,
)
from neon_sync.emulators.neon_state import NeonWorld, OperationRow, ProjectRow, Refused


class NeonWrites(NeonWorld):
    lock_while_running = False  # True: answer 423 to writes while an operation runs
    operations_end_as = "finished"  # set "failed" (or "error") to make operations fail

    def _unlocked(self, project: ProjectRow) -> None:
        if self.lock_while_running and busy_branches(project):
            raise Refused(
                423,
                "project already has running conflicting operations, "
                "scheduling of new ones is prohibited",
            )

    def create_branch_route(self, request: httpx.Request, project_id: str) -> httpx.Response:
        project = self.api_project(project_id)
        body = _json_body(request)
        spec = body.get("branch") or {}
        kinds = [str((e or {}).get("type")) for e in body.get("endpoints") or []]
        if any(kind not in {"read_write", "read_only"} for kind in kinds):
            raise Refused(400, "endpoint type must be read_write or read_only")
        if kinds.count("read_write") > 1:
            raise Refused(400, "a branch can have only one read_write endpoint")
        parent_id = spec.get("parent_id")
        parent = self.api_branch(project, parent_id) if parent_id else project.default_branch()
        name = spec.get("name")
        if name and any(b.name == name for b in project.branches.values()):
            raise Refused(409, "branch with that name already exists")
        self._unlocked(project)
        branch, endpoints = self.make_branch(
            project,
            name,
            parent,
            kinds,
            protected=bool(spec.get("protected")),
            expires_at=spec.get("expires_at"),
        )
        ops = [self.new_operation(project, "create_timeline", branch.id)]
        ops += [self.new_operation(project, "start_compute", branch.id, e.id) for e in endpoints]
        answer: Json = {
            "branch": branch_json(project, branch),
            "endpoints": [endpoint_json(project, e) for e in endpoints],
            "operations": _operations(project, ops),
            "roles": [role_json(branch, r) for r in branch.roles.values()],
            "databases": [database_json(branch, d) for d in branch.databases.values()],
        }
        read_write = next((e for e in endpoints if e.type == "read_write"), None)
        if read_write and (uris := connection_details(branch, read_write)):
            answer["connection_uris"] = uris
        return json_response(201, answer)

    def delete_branch_route(
        self, request: httpx.Request, project_id: str, branch_id: str
    ) -> httpx.Response:
        project = self.api_project(project_id)
        branch = project.branches.get(branch_id)
        if branch is None:
            return httpx.Response(204)  # the spec: already deleted, or never there
        # Neon's docs say these are refused but not with which status; 422 is our guess.
        if branch.default:
            raise Refused(422, "cannot delete the project's default branch")
        if branch.protected:
            raise Refused(422, "cannot delete a protected branch")
        if any(b.parent_id == branch.id for b in project.branches.values()):
            raise Refused(422, "cannot delete a branch that has child branches")
        self._unlocked(project)
        endpoints = self.drop_branch(project, branch)
        ops = [self.new_operation(project, "suspend_compute", branch.id, e.id) for e in endpoints]
        ops.append(self.new_operation(project, "delete_timeline", branch.id))
        branch.updated_at = self.now()
        answer = {
            "branch": branch_json(project, branch, busy=set()),
            "operations": _operations(project, ops),
        }
        return json_response(200, answer)

    def reset_password_route(
        self, request: httpx.Request, project_id: str, branch_id: str, role_name: str
    ) -> httpx.Response:
        project = self.api_project(project_id)
        branch = self.api_branch(project, branch_id)
        role = self.api_role(branch, role_name)
        self._unlocked(project)
        role.password = self.new_password()
        role.updated_at = self.now()
        endpoints = project.branch_endpoints(branch.id)
        ops = [self.new_operation(project, "apply_config", branch.id, e.id) for e in endpoints]
        answer = {
            "role": role_json(branch, role, with_password=True),
            "operations": _operations(project, ops),
        }
        return json_response(200, answer)

    def get_operation_route(
        self, request: httpx.Request, project_id: str, operation_id: str
    ) -> httpx.Response:
        project = self.api_project(project_id)
        op = project.operations.get(operation_id)
        if op is None:
            raise Refused(404, "operation not found")
        if op.status == "running" and op.polls > 0:
            op.status = self.operations_end_as
            op.updated_at = self.now()
        op.polls += 1
        return json_response(200, {"operation": operation_json(project, op)})


def _operations(project: ProjectRow, ops: list[OperationRow]) -> list[Json]:
    return [operation_json(project, op) for op in ops]


def _json_body(request: httpx.Request) -> Json:
    raw = request.read()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise Refused(400, "request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise Refused(400, "request body must be a JSON object")
    return body
