"""`neon-sync url`: one connection string, like `neonctl connection-string`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import httpx

from sync import config as config_mod
from sync.config import Config
from sync.connstr import ConnectionInfo, UrlOptions, build
from sync.errors import ConfigError, NeonSyncError
from sync.neon import DEFAULT_API_HOST, NeonClient
from sync.run import api_key
from sync.secret import Secret


def _optional_config(
    path: str | None, project_id: str | None, env: Mapping[str, str]
) -> Config | None:
    """The config is optional here: --project-id alone is enough."""
    if path is None and project_id:
        return None
    try:
        found = config_mod.find(path, env, Path.cwd())
    except ConfigError:
        if path is not None:
            raise
        return None
    if env is os.environ:
        config_mod.load_dotenv_beside(found)
    return config_mod.load(found, env)


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
    env = os.environ if env is None else env
    if endpoint_type not in ("read_write", "read_only"):
        raise ConfigError("--endpoint-type must be read_write or read_only")
    if format_ not in ("uri", "jdbc", "dsn", "prisma"):
        raise ConfigError("--format must be uri, jdbc, dsn or prisma")
    config = _optional_config(config_path, project_id, env)
    project = project_id or (config.neon.project_id if config else env.get("NEON_PROJECT_ID"))
    if not project:
        raise ConfigError(
            "no project: pass --project-id, set NEON_PROJECT_ID, or use a config file"
        )
    host = env.get("NEON_API_HOST") or (config.neon.api_host if config else DEFAULT_API_HOST)
    neon_settings = config.neon if config else None
    role = role or (neon_settings.role if neon_settings else "neondb_owner")
    database = database or (neon_settings.database if neon_settings else "neondb")
    with NeonClient(api_key(env), project, api_host=host, transport=transport) as neon:
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
        endpoint = next(
            (
                e
                for e in sorted(neon.endpoints(), key=lambda e: e.id)
                if e.branch_id == chosen.id and e.type == endpoint_type
            ),
            None,
        )
        if endpoint is None:
            raise NeonSyncError(f"branch {chosen.name!r} has no {endpoint_type} compute")
        info = ConnectionInfo(
            endpoint.host, endpoint.id, role, neon.password(chosen.id, role), database
        )
    options = UrlOptions(
        pooled=pooled,
        format=format_,  # type: ignore[arg-type]
        sslmode=neon_settings.sslmode if neon_settings else "require",
        channel_binding=(
            None
            if neon_settings and neon_settings.channel_binding == "omit"
            else (neon_settings.channel_binding if neon_settings else "require")
        ),
        sni_workaround=neon_settings.sni_workaround if neon_settings else False,
    )
    return build(info, options)
