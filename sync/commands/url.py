"""`neon-sync url`: one connection string, like `neonctl connection-string`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from neon_sync.commands.project import settings
from neon_sync.engine.desired import endpoints_by_branch, url_options
from neon_sync.engine.run import neon_client
from neon_sync.errors import ConfigError, NeonSyncError
from neon_sync.neon.client import Branch, Endpoint, NeonClient
from neon_sync.neon.connstr import ConnectionInfo, build, pooled_host
from neon_sync.neon.formats import ENDPOINT_TYPES, FORMATS, one_of
from neon_sync.secret import Secret


@dataclass(frozen=True)
class Connection:
    """One string and the parts `url --json` shows (the password only inside `url`)."""

    branch: Branch
    info: ConnectionInfo
    url: Secret
    pooled: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "url": self.url.reveal(),
            "branch": self.branch.name,
            "branch_id": self.branch.id,
            "host": self.info.host,
            "pooled_host": pooled_host(self.info.host),
            "port": self.info.port,
            "role": self.info.role,
            "database": self.info.database,
            "endpoint_id": self.info.endpoint_id,
            "pooled": self.pooled,
        }


def find_compute(
    neon: NeonClient, branch: str | None, endpoint_type: str = "read_write"
) -> tuple[Branch, Endpoint]:
    """The branch (name or id; None: the default branch) and its compute of that type."""
    all_branches = neon.branches()
    if branch is None:
        chosen = next((b for b in all_branches if b.default), None)
    else:
        chosen = next((b for b in all_branches if branch in (b.name, b.id)), None)
    if chosen is None:
        raise NeonSyncError(
            f"branch {branch or '(default)'!r} not found in project {neon.project_id}; "
            "`neon-sync branches` lists them"
        )
    endpoint = endpoints_by_branch(neon.endpoints()).get((chosen.id, endpoint_type))
    if endpoint is None:
        raise NeonSyncError(f"branch {chosen.name!r} has no {endpoint_type} compute")
    return chosen, endpoint


def connection(
    branch: str | None,
    *,
    pooled: bool = False,
    database: str | None = None,
    role: str | None = None,
    endpoint_type: str = "read_write",
    format_: str = "uri",
    project_id: str | None = None,
    config_path: str | None = None,
    env: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
    cwd: Path | None = None,
) -> Connection:
    if endpoint_type not in ENDPOINT_TYPES:
        raise ConfigError(f"--endpoint-type must be {one_of(ENDPOINT_TYPES)}")
    if format_ not in FORMATS:
        raise ConfigError(f"--format must be {one_of(FORMATS)}")
    neon_settings, env = settings(project_id, config_path, env, cwd)
    role = role or neon_settings.role
    database = database or neon_settings.database
    with neon_client(neon_settings, env, transport) as neon:
        chosen, endpoint = find_compute(neon, branch, endpoint_type)
        info = ConnectionInfo(
            endpoint.host, endpoint.id, role, neon.password(chosen.id, role), database
        )
    url = build(info, url_options(neon_settings, pooled=pooled, format_=format_))
    return Connection(chosen, info, url, pooled)


def connection_string(branch: str | None, **kwargs: Any) -> Secret:
    return connection(branch, **kwargs).url
