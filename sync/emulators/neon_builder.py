"""The builder API of the Neon emulator: set up projects, branches, endpoints, roles and
databases directly (no HTTP), for tests and `neon-sync demo`. Branch arguments take a name
or an id."""

from __future__ import annotations

from collections.abc import Iterable

from neon_sync.emulators.neon_json import Json, branch_json, endpoint_json
from neon_sync.emulators.neon_state import DEFAULT_ROLE, DatabaseRow, NeonWorld, ProjectRow, RoleRow


class NeonBuilder(NeonWorld):
    def add_project(
        self,
        project_id: str | None = None,
        *,
        name: str | None = None,
        store_passwords: bool = True,
        region: str = "aws-us-east-2",
    ) -> str:
        """A project with a default branch "main" (read_write endpoint, role neondb_owner,
        database neondb). Returns the project id."""
        with self.lock:
            pid = project_id or self.new_id("p").removeprefix("p-")
            now = self.now()
            project = ProjectRow(pid, name or pid, region, store_passwords, now, now)
            self.projects[pid] = project
            self.make_branch(project, "main", None)
            return pid

    def add_branch(
        self,
        project_id: str,
        name: str,
        *,
        parent: str | None = None,
        endpoints: Iterable[str] = ("read_write",),
        protected: bool = False,
    ) -> str:
        """A branch of `parent` (name or id; default: the default branch). Returns its id."""
        with self.lock:
            project = self.project_row(project_id)
            source = self.branch_row(project, parent) if parent else project.default_branch()
            branch, _ = self.make_branch(project, name, source, endpoints, protected=protected)
            return branch.id

    def add_endpoint(self, project_id: str, branch: str, *, type: str = "read_write") -> str:
        with self.lock:
            project, row = self.rows(project_id, branch)
            return self.make_endpoint(project, row, type).id

    def add_role(
        self, project_id: str, branch: str, name: str, password: str | None = None
    ) -> None:
        with self.lock:
            _, row = self.rows(project_id, branch)
            now = self.now()
            row.roles[name] = RoleRow(name, password or self.new_password(), now, now)

    def add_database(
        self, project_id: str, branch: str, name: str, *, owner: str = DEFAULT_ROLE
    ) -> None:
        with self.lock:
            _, row = self.rows(project_id, branch)
            if owner not in row.roles:
                raise KeyError(f"no role {owner!r} on branch {row.name!r}")
            now = self.now()
            row.databases[name] = DatabaseRow(self.new_database_id(), name, owner, now, now)

    def remove_branch(self, project_id: str, branch: str) -> None:
        with self.lock:
            project, row = self.rows(project_id, branch)
            self.drop_branch(project, row)

    def password(self, project_id: str, branch: str, role: str) -> str:
        with self.lock:
            _, row = self.rows(project_id, branch)
            return row.roles[role].password

    def set_password(self, project_id: str, branch: str, role: str, password: str) -> None:
        with self.lock:
            _, row = self.rows(project_id, branch)
            row.roles[role].password = password
            row.roles[role].updated_at = self.now()

    def seed_demo(self) -> str:
        """A sample project: main; preview/feature-login; dev/alice with a read replica, role
        analyst and database analytics. Returns its id."""
        pid = self.add_project("neon-sync-demo", name="shop")
        self.add_branch(pid, "preview/feature-login", parent="main")
        self.add_branch(pid, "dev/alice", parent="main")
        self.add_endpoint(pid, "dev/alice", type="read_only")
        self.add_role(pid, "dev/alice", "analyst")
        self.add_database(pid, "dev/alice", "analytics", owner="analyst")
        return pid

    def endpoint(self, project_id: str, branch: str, *, type: str = "read_write") -> Json:
        """The JSON of the branch's first endpoint of that type, as the API returns it."""
        with self.lock:
            project, row = self.rows(project_id, branch)
            for endpoint in project.branch_endpoints(row.id):
                if endpoint.type == type:
                    return endpoint_json(project, endpoint)
            raise KeyError(f"branch {row.name!r} has no {type} endpoint")

    def branch(self, project_id: str, branch: str) -> Json:
        """The branch's JSON, as the API returns it."""
        with self.lock:
            project, row = self.rows(project_id, branch)
            return branch_json(project, row)
