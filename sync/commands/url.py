"""`neon-sync url`: one connection string, like `neonctl connection-string`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import httpx

from neon_sync.config import model as config_mod
from neon_sync.config.model import Config, Neon
from neon_sync.engine.desired import endpoints_by_branch, url_options
from neon_sync.engine.run import neon_client, read_config
from neon_sync.errors import ConfigError, NeonSyncError
from neon_sync.neon import api_host
from neon_sync.neon.connstr import ConnectionInfo, build
from neon_sync.secret import Secret


def _optional_config(
    path: str | None, project_id: str | None, env: Mapping[str, str] | None
) -> tuple[Config | None, Mapping[str, str]]:
    """The config is optional here: --project-id alone is enough."""
    fallback = os.environ if env is None else env
    if path is None and project_id:
        return None, fallback
    try:
        found = config_mod.find(path, fallback, Path.cwd())
    except ConfigError:
        if path is not None:
            raise
        return None, fallback
    return read_config(found, env)


def connection_string(
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
) -> Secret:
    if endpoint_type not in ("read_write", "read_only"):
        raise ConfigError("--endpoint-type must be read_write or read_only")
    if format_ not in ("uri", "jdbc", "dsn", "prisma"):
        raise ConfigError("--format must be uri, jdbc, dsn or prisma")
    config, env = _optional_config(config_path, project_id, env)
    project = project_id or (config.neon.project_id if config else env.get("NEON_PROJECT_ID"))
    if not project:
        raise ConfigError(
            "no project: pass --project-id, set NEON_PROJECT_ID, or use a config file"
        )
    if config is not None:
        settings = replace(config.neon, project_id=project)
    else:
        settings = Neon(project, api_host=api_host(env))
    role = role or settings.role
    database = database or settings.database
    with neon_client(settings, env, transport) as neon:
        all_branches = neon.branches()
        if branch is None:
            chosen = next((b for b in all_branches if b.default), None)
        else:
            chosen = next((b for b in all_branches if branch in (b.name, b.id)), None)
        if chosen is None:
            raise NeonSyncError(
                f"branch {branch or '(default)'!r} not found in project {project}; "
                "`neon-sync branches` lists them"
            )
        endpoint = endpoints_by_branch(neon.endpoints()).get((chosen.id, endpoint_type))
        if endpoint is None:
            raise NeonSyncError(f"branch {chosen.name!r} has no {endpoint_type} compute")
        info = ConnectionInfo(
            endpoint.host, endpoint.id, role, neon.password(chosen.id, role), database
        )
    return build(info, url_options(settings, pooled=pooled, format_=format_))
