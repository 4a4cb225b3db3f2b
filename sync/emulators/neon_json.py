"""The Neon API's JSON for the emulator's rows: the field names and required fields of the
schemas in neon-api-v2.yaml (Project, Branch, Endpoint, Role, Database, Operation, ...)."""

from __future__ import annotations

from typing import Any

from neon_sync.emulators.neon_state import (
    BranchRow,
    DatabaseRow,
    EndpointRow,
    OperationRow,
    ProjectRow,
    RoleRow,
    connection_uri,
    pooler_host,
)

Json = dict[str, Any]

# Usage counters the schemas require; the emulator has no compute, so they stay at zero.
_USAGE = {
    "cpu_used_sec": 0,
    "compute_time_seconds": 0,
    "active_time_seconds": 0,
    "written_data_bytes": 0,
    "data_transfer_bytes": 0,
}


def _proxy_host(project: ProjectRow) -> str:
    platform, _, region = project.region.partition("-")
    return f"{region}.{platform}.neon.tech"


def project_json(project: ProjectRow) -> Json:
    platform, _, _ = project.region.partition("-")
    return {
        "id": project.id,
        "platform_id": platform,
        "region_id": project.region,
        "name": project.name,
        "provisioner": "k8s-neonvm",
        "pg_version": 17,
        "proxy_host": _proxy_host(project),
        "branch_logical_size_limit": 0,
        "branch_logical_size_limit_bytes": 0,
        "store_passwords": project.store_passwords,
        "creation_source": "console",
        "history_retention_seconds": 86400,
        "created_at": project.created_at,
        "updated_at": project.updated_at,
        "consumption_period_start": project.created_at,
        "consumption_period_end": "2124-01-01T00:00:00Z",
        "data_storage_bytes_hour": 0,
        "owner_id": "emulator",
        **_USAGE,
    }


def busy_branches(project: ProjectRow) -> set[str]:
    """Branches with an operation still running: they show current_state "init"."""
    return {op.branch_id for op in project.operations.values() if op.status == "running"}


def branch_json(project: ProjectRow, branch: BranchRow, busy: set[str] | None = None) -> Json:
    running = branch.id in (busy_branches(project) if busy is None else busy)
    body: Json = {
        "id": branch.id,
        "project_id": project.id,
        "name": branch.name,
        "current_state": "init" if running else "ready",
        "state_changed_at": branch.updated_at,
        "logical_size": 30785536,
        "creation_source": "console",
        "primary": branch.default,
        "default": branch.default,
        "protected": branch.protected,
        "created_at": branch.created_at,
        "updated_at": branch.updated_at,
        "init_source": "parent-data",
        **_USAGE,
    }
    if running:
        body["pending_state"] = "ready"
    if branch.parent_id:
        body["parent_id"] = branch.parent_id
        body["parent_lsn"] = "0/1DE2850"
    if branch.expires_at:
        body["expires_at"] = branch.expires_at
    return body


def endpoint_json(project: ProjectRow, endpoint: EndpointRow) -> Json:
    return {
        "host": endpoint.host,
        "id": endpoint.id,
        "project_id": project.id,
        "branch_id": endpoint.branch_id,
        "autoscaling_limit_min_cu": 0.25,
        "autoscaling_limit_max_cu": 2,
        "region_id": project.region,
        "type": endpoint.type,
        "current_state": endpoint.current_state,
        "settings": {"pg_settings": {}},
        "pooler_enabled": False,
        "pooler_mode": "transaction",
        "disabled": False,
        "passwordless_access": True,
        "creation_source": "console",
        "created_at": endpoint.created_at,
        "updated_at": endpoint.updated_at,
        "proxy_host": _proxy_host(project),
        "suspend_timeout_seconds": 0,
        "provisioner": "k8s-neonvm",
    }


def role_json(branch: BranchRow, role: RoleRow, *, with_password: bool = False) -> Json:
    body: Json = {
        "branch_id": branch.id,
        "name": role.name,
        "protected": role.protected,
        "created_at": role.created_at,
        "updated_at": role.updated_at,
    }
    if with_password:
        body["password"] = role.password
    return body


def database_json(branch: BranchRow, database: DatabaseRow) -> Json:
    return {
        "id": database.id,
        "branch_id": branch.id,
        "name": database.name,
        "owner_name": database.owner,
        "created_at": database.created_at,
        "updated_at": database.updated_at,
    }


def operation_json(project: ProjectRow, op: OperationRow) -> Json:
    body: Json = {
        "id": op.id,
        "project_id": project.id,
        "branch_id": op.branch_id,
        "action": op.action,
        "status": op.status,
        "failures_count": 0,
        "created_at": op.created_at,
        "updated_at": op.updated_at,
        "total_duration_ms": 0 if op.status == "running" else 1200,
    }
    if op.endpoint_id:
        body["endpoint_id"] = op.endpoint_id
    if op.status in {"failed", "error"}:
        body["error"] = "emulated operation failure"
    return body


def connection_details(branch: BranchRow, endpoint: EndpointRow) -> list[Json]:
    """`connection_uris` of a create-branch answer: present only when the branch has exactly
    one role and one database (as the spec says) and a read_write endpoint."""
    if len(branch.roles) != 1 or len(branch.databases) != 1:
        return []
    (role,) = branch.roles.values()
    (database,) = branch.databases.values()
    return [
        {
            "connection_uri": connection_uri(
                role.name, role.password, endpoint.host, database.name
            ),
            "connection_parameters": {
                "database": database.name,
                "password": role.password,
                "role": role.name,
                "host": endpoint.host,
                "pooler_host": pooler_host(endpoint.host),
            },
        }
    ]
