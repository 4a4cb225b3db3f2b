"""The Neon emulator's world: projects, branches, endpoints, roles, databases, operations.

The records are mutable on purpose: they are the emulator's rows, changed in place by both the
builder and the HTTP handlers (always under the emulator's lock), never handed to callers.
"""

from __future__ import annotations

import itertools
import random
import string
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

DEFAULT_ROLE = "neondb_owner"
DEFAULT_DATABASE = "neondb"
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)

_ADJECTIVES = ("cool", "holy", "aged", "sweet", "raspy", "small", "quiet", "bold", "calm", "dry")
_NOUNS = ("wave", "night", "salad", "breeze", "hill", "term", "sun", "field", "river", "cloud")
_ID_CHARS = string.ascii_lowercase + string.digits
_PASSWORD_CHARS = string.ascii_letters + string.digits


@dataclass
class RoleRow:
    name: str
    password: str
    created_at: str
    updated_at: str
    protected: bool = False


@dataclass
class DatabaseRow:
    id: int
    name: str
    owner: str
    created_at: str
    updated_at: str


@dataclass
class EndpointRow:
    id: str
    branch_id: str
    type: str
    host: str
    created_at: str
    updated_at: str
    current_state: str = "idle"


@dataclass
class BranchRow:
    id: str
    name: str
    parent_id: str | None
    created_at: str
    updated_at: str
    default: bool = False
    protected: bool = False
    expires_at: str | None = None
    roles: dict[str, RoleRow] = field(default_factory=dict)
    databases: dict[str, DatabaseRow] = field(default_factory=dict)


@dataclass
class OperationRow:
    id: str
    branch_id: str
    endpoint_id: str | None
    action: str
    created_at: str
    updated_at: str
    status: str = "running"
    polls: int = 0


@dataclass
class ProjectRow:
    id: str
    name: str
    region: str
    store_passwords: bool
    created_at: str
    updated_at: str
    branches: dict[str, BranchRow] = field(default_factory=dict)
    endpoints: dict[str, EndpointRow] = field(default_factory=dict)
    operations: dict[str, OperationRow] = field(default_factory=dict)

    def default_branch(self) -> BranchRow:
        return next(b for b in self.branches.values() if b.default)

    def branch_endpoints(self, branch_id: str) -> list[EndpointRow]:
        return [e for e in self.endpoints.values() if e.branch_id == branch_id]


def pooler_host(host: str) -> str:
    """`ep-x.c-2.us-east-2.aws.neon.tech` -> `ep-x-pooler.c-2.us-east-2.aws.neon.tech`."""
    first, _, rest = host.partition(".")
    return f"{first}-pooler.{rest}"


def connection_uri(role: str, password: str, host: str, database: str) -> str:
    user = f"{quote(role, safe='')}:{quote(password, safe='')}"
    db = quote(database, safe="")
    return f"postgresql://{user}@{host}/{db}?sslmode=require&channel_binding=require"


class Refused(Exception):
    """Raised by an HTTP handler to answer with Neon's error body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class NeonWorld:
    """The state and the changes shared by the builder and the HTTP handlers. A base of
    NeonEmulator, whose RLock (`lock`) guards every access."""

    lock: threading.RLock

    def __init__(self, seed: int | None = None) -> None:
        self.projects: dict[str, ProjectRow] = {}
        self.rng = random.Random(seed)
        self._clock = EPOCH
        self._database_ids = itertools.count(834686)  # Neon's database ids are integers

    # -- ids, time, secrets -------------------------------------------------------------------

    def now(self) -> str:
        # A clock that ticks one second per change keeps `updated_at` ordering strict and
        # tests deterministic.
        self._clock += timedelta(seconds=1)
        return self._clock.strftime("%Y-%m-%dT%H:%M:%SZ")

    def new_id(self, prefix: str) -> str:
        suffix = "".join(self.rng.choices(_ID_CHARS, k=8))
        return f"{prefix}-{self.rng.choice(_ADJECTIVES)}-{self.rng.choice(_NOUNS)}-{suffix}"

    def new_password(self) -> str:
        return "npg_" + "".join(self.rng.choices(_PASSWORD_CHARS, k=12))

    def new_database_id(self) -> int:
        return next(self._database_ids)

    def new_operation(
        self, project: ProjectRow, action: str, branch_id: str, endpoint_id: str | None = None
    ) -> OperationRow:
        now = self.now()
        op_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        op = OperationRow(op_id, branch_id, endpoint_id, action, now, now)
        project.operations[op.id] = op
        return op

    # -- lookups ------------------------------------------------------------------------------

    def project_row(self, project_id: str) -> ProjectRow:
        try:
            return self.projects[project_id]
        except KeyError:
            raise KeyError(f"no project {project_id!r}") from None

    def branch_row(self, project: ProjectRow, ref: str) -> BranchRow:
        """A branch by id or by name."""
        if ref in project.branches:
            return project.branches[ref]
        for branch in project.branches.values():
            if branch.name == ref:
                return branch
        raise KeyError(f"no branch {ref!r} in project {project.id!r}")

    def rows(self, project_id: str, branch: str) -> tuple[ProjectRow, BranchRow]:
        project = self.project_row(project_id)
        return project, self.branch_row(project, branch)

    def api_project(self, project_id: str) -> ProjectRow:
        """Lookups for HTTP handlers: ids only, refused as Neon refuses them."""
        project = self.projects.get(project_id)
        if project is None:
            raise Refused(404, "project not found")
        return project

    def api_branch(self, project: ProjectRow, branch_id: str) -> BranchRow:
        branch = project.branches.get(branch_id)
        if branch is None:
            raise Refused(404, "branch not found")
        return branch

    def api_role(self, branch: BranchRow, name: str) -> RoleRow:
        role = branch.roles.get(name)
        if role is None:
            raise Refused(404, "role not found")
        return role

    # -- changes shared by the builder and the HTTP handlers ----------------------------------

    def make_branch(
        self,
        project: ProjectRow,
        name: str | None,
        parent: BranchRow | None,
        endpoint_types: Iterable[str] = ("read_write",),
        *,
        protected: bool = False,
        expires_at: str | None = None,
    ) -> tuple[BranchRow, list[EndpointRow]]:
        now = self.now()
        branch_id = self.new_id("br")
        branch = BranchRow(
            branch_id,
            name or branch_id,
            parent.id if parent else None,
            now,
            now,
            default=parent is None and not project.branches,
            protected=protected,
            expires_at=expires_at,
        )
        if parent is None:
            password = self.new_password()
            branch.roles[DEFAULT_ROLE] = RoleRow(DEFAULT_ROLE, password, now, now)
            database = DatabaseRow(self.new_database_id(), DEFAULT_DATABASE, DEFAULT_ROLE, now, now)
            branch.databases[DEFAULT_DATABASE] = database
        else:
            # A child branch starts with its parent's roles, passwords included, as on Neon.
            for role in parent.roles.values():
                branch.roles[role.name] = RoleRow(
                    role.name, role.password, now, now, role.protected
                )
            for db in parent.databases.values():
                row = DatabaseRow(self.new_database_id(), db.name, db.owner, now, now)
                branch.databases[db.name] = row
        project.branches[branch.id] = branch
        endpoints = [self.make_endpoint(project, branch, kind) for kind in endpoint_types]
        return branch, endpoints

    def make_endpoint(self, project: ProjectRow, branch: BranchRow, kind: str) -> EndpointRow:
        if kind not in {"read_write", "read_only"}:
            raise ValueError(f"endpoint type must be read_write or read_only, not {kind!r}")
        if kind == "read_write" and any(
            e.type == "read_write" for e in project.branch_endpoints(branch.id)
        ):
            raise ValueError(f"branch {branch.name!r} already has a read_write endpoint")
        endpoint_id = self.new_id("ep")
        platform, _, region = project.region.partition("-")
        host = f"{endpoint_id}.c-2.{region}.{platform}.neon.tech"
        now = self.now()
        endpoint = EndpointRow(endpoint_id, branch.id, kind, host, now, now)
        project.endpoints[endpoint.id] = endpoint
        return endpoint

    def drop_branch(self, project: ProjectRow, branch: BranchRow) -> list[EndpointRow]:
        del project.branches[branch.id]
        gone = project.branch_endpoints(branch.id)
        for endpoint in gone:
            del project.endpoints[endpoint.id]
        return gone
