"""A stateful emulator of the Neon API v2 routes neon-sync uses.

Answers with the spec's field names, shapes and status codes (neon-api-v2.yaml): projects,
branches (cursor paging), endpoints, roles, databases, reveal/reset password, operations and
connection URIs. Operations start `running` and report `finished` from their second poll on,
so callers' waits are exercised. Build state with the builder methods (add_project,
add_branch, ...; see neon_builder), then serve `emu.handle` in-process
(httpx.MockTransport) or over loopback (neon_sync.emulators.server).
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import httpx

from neon_sync.emulators.base import Emulator, json_response
from neon_sync.emulators.neon_builder import NeonBuilder
from neon_sync.emulators.neon_json import (
    Json,
    branch_json,
    busy_branches,
    database_json,
    endpoint_json,
    project_json,
    role_json,
)
from neon_sync.emulators.neon_state import (
    BranchRow,
    NeonWorld,
    Refused,
    connection_uri,
    pooler_host,
)
from neon_sync.emulators.neon_writes import NeonWrites

PREFIX = "/api/v2"
_P = PREFIX + r"/projects/(?P<project_id>[^/]+)"
_B = _P + r"/branches/(?P<branch_id>[^/]+)"
_R = _B + r"/roles/(?P<role_name>[^/]+)"
_SORT_FIELDS = ("name", "created_at", "updated_at")
_MAX_LIMIT = 10000


class NeonEmulator(NeonBuilder, NeonWrites, Emulator):
    def __init__(self, api_key: str = "test-key", *, seed: int | None = None) -> None:
        Emulator.__init__(self)
        NeonWorld.__init__(self, seed)
        self.api_key = api_key
        self._local = threading.local()
        routes: list[tuple[str, str, Callable[..., httpx.Response]]] = [
            ("GET", _P, self._get_project),
            ("GET", _P + "/branches", self._list_branches),
            ("POST", _P + "/branches", self.create_branch_route),
            ("GET", _B, self._get_branch),
            ("DELETE", _B, self.delete_branch_route),
            ("GET", _P + "/endpoints", self._list_endpoints),
            ("GET", _B + "/endpoints", self._branch_endpoints),
            ("GET", _B + "/roles", self._list_roles),
            ("GET", _B + "/databases", self._list_databases),
            ("GET", _R + "/reveal_password", self._reveal_password),
            ("POST", _R + "/reset_password", self.reset_password_route),
            ("GET", _P + r"/operations/(?P<operation_id>[^/]+)", self.get_operation_route),
            ("GET", _P + "/connection_uri", self._connection_uri),
        ]
        for method, pattern, handler in routes:
            self.route(method, pattern, self._guarded(handler))

    # -- the Emulator hooks -------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        # Neon echoes X-Request-ID when the caller sets one, else makes one up.
        self._local.request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
        return super().handle(request)

    def error(self, status: int, message: str, **extra: Any) -> httpx.Response:
        request_id = getattr(self._local, "request_id", None) or str(uuid.uuid4())
        body = {"code": "", "message": message, "request_id": request_id, **extra}
        return json_response(status, body)

    def authorize(self, request: httpx.Request) -> httpx.Response | None:
        header = request.headers.get("authorization")
        if not header:
            return self.error(401, "authentication required")
        if header != f"Bearer {self.api_key}":
            return self.error(401, "authorization failed")
        return None

    def _dispatch(self, request: httpx.Request, path: str) -> httpx.Response:
        # Route on the raw path so a role named "a/b" (sent as a%2Fb) stays one segment;
        # handlers get the segments decoded.
        raw = request.url.raw_path.decode("ascii").partition("?")[0]
        return super()._dispatch(request, raw)

    def _guarded(self, handler: Callable[..., httpx.Response]) -> Callable[..., httpx.Response]:
        def run(request: httpx.Request, **params: str) -> httpx.Response:
            try:
                return handler(request, **{k: unquote(v) for k, v in params.items()})
            except Refused as refused:
                return self.error(refused.status, refused.message)

        return run

    # -- handlers -----------------------------------------------------------------------------

    def _get_project(self, request: httpx.Request, project_id: str) -> httpx.Response:
        return json_response(200, {"project": project_json(self.api_project(project_id))})

    def _list_branches(self, request: httpx.Request, project_id: str) -> httpx.Response:
        project = self.api_project(project_id)
        query = request.url.params
        sort_by = query.get("sort_by", "updated_at")
        order = query.get("sort_order", "desc")
        if sort_by not in _SORT_FIELDS or order not in {"asc", "desc"}:
            raise Refused(400, "invalid sort_by or sort_order")
        limit = _limit(query.get("limit"))
        search = query.get("search")
        rows = [
            b for b in project.branches.values() if not search or search in b.name or search in b.id
        ]

        def key(b: BranchRow) -> tuple[str, str]:
            return (str(getattr(b, sort_by)), b.id)

        desc = order == "desc"
        rows.sort(key=key, reverse=desc)
        if cursor := query.get("cursor"):
            after = _decode_cursor(cursor, sort_by, order)
            rows = [b for b in rows if (key(b) < after if desc else key(b) > after)]
        page = rows if limit is None else rows[:limit]
        pagination: Json = {"sort_by": sort_by, "sort_order": order}
        if len(page) < len(rows):
            pagination["next"] = _encode_cursor(sort_by, order, key(page[-1]))
        busy = busy_branches(project)
        body = {
            "branches": [branch_json(project, b, busy) for b in page],
            "annotations": {},
            "pagination": pagination,
        }
        return json_response(200, body)

    def _get_branch(
        self, request: httpx.Request, project_id: str, branch_id: str
    ) -> httpx.Response:
        project = self.api_project(project_id)
        branch = self.api_branch(project, branch_id)
        annotation = {"object": {"type": "console/branch", "id": branch.id}, "value": {}}
        return json_response(
            200, {"branch": branch_json(project, branch), "annotation": annotation}
        )

    def _list_endpoints(self, request: httpx.Request, project_id: str) -> httpx.Response:
        project = self.api_project(project_id)
        endpoints = [endpoint_json(project, e) for e in project.endpoints.values()]
        return json_response(200, {"endpoints": endpoints})

    def _branch_endpoints(
        self, request: httpx.Request, project_id: str, branch_id: str
    ) -> httpx.Response:
        project = self.api_project(project_id)
        branch = self.api_branch(project, branch_id)
        endpoints = [endpoint_json(project, e) for e in project.branch_endpoints(branch.id)]
        return json_response(200, {"endpoints": endpoints})

    def _list_roles(
        self, request: httpx.Request, project_id: str, branch_id: str
    ) -> httpx.Response:
        branch = self.api_branch(self.api_project(project_id), branch_id)
        return json_response(200, {"roles": [role_json(branch, r) for r in branch.roles.values()]})

    def _list_databases(
        self, request: httpx.Request, project_id: str, branch_id: str
    ) -> httpx.Response:
        branch = self.api_branch(self.api_project(project_id), branch_id)
        databases = [database_json(branch, d) for d in branch.databases.values()]
        return json_response(200, {"databases": databases})

    def _reveal_password(
        self, request: httpx.Request, project_id: str, branch_id: str, role_name: str
    ) -> httpx.Response:
        project = self.api_project(project_id)
        role = self.api_role(self.api_branch(project, branch_id), role_name)
        if not project.store_passwords:
            raise Refused(412, "passwords are not stored for this project")
        return json_response(200, {"password": role.password})

    def _connection_uri(self, request: httpx.Request, project_id: str) -> httpx.Response:
        project = self.api_project(project_id)
        query = request.url.params
        database_name, role_name = query.get("database_name"), query.get("role_name")
        if not database_name or not role_name:
            raise Refused(400, "database_name and role_name are required")
        branch_id = query.get("branch_id")
        branch = self.api_branch(project, branch_id) if branch_id else project.default_branch()
        endpoints = project.branch_endpoints(branch.id)
        if endpoint_id := query.get("endpoint_id"):
            endpoint = next((e for e in endpoints if e.id == endpoint_id), None)
            if endpoint is None:
                raise Refused(404, "endpoint not found on this branch")
        else:
            endpoint = next((e for e in endpoints if e.type == "read_write"), None)
            if endpoint is None:
                raise Refused(404, "branch has no read_write endpoint")
        role = self.api_role(branch, role_name)
        database = branch.databases.get(database_name)
        if database is None:
            raise Refused(404, "database not found")
        if not project.store_passwords:
            raise Refused(412, "passwords are not stored for this project")
        pooled = query.get("pooled", "false").lower() == "true"
        host = pooler_host(endpoint.host) if pooled else endpoint.host
        uri = connection_uri(role.name, role.password, host, database.name)
        return json_response(200, {"uri": uri})


def _limit(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        limit = int(value)
    except ValueError:
        raise Refused(400, "limit must be an integer") from None
    if not 1 <= limit <= _MAX_LIMIT:
        raise Refused(400, f"limit must be between 1 and {_MAX_LIMIT}")
    return limit


def _encode_cursor(sort_by: str, order: str, key: tuple[str, str]) -> str:
    raw = json.dumps([sort_by, order, *key]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort_by: str, order: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_sort, cursor_order, value, last_id = json.loads(raw)
    except (ValueError, binascii.Error, TypeError):
        raise Refused(400, "invalid cursor") from None
    if (cursor_sort, cursor_order) != (sort_by, order):
        raise Refused(400, "cursor was issued for a different sort order")
    return str(value), str(last_id)
