"""Which Neon project a config-less command (`url`, `env`, `run`) talks to, and with which
defaults: `--project-id`, else a config's `neon:` (with -c, or one found here), else
NEON_PROJECT_ID, else neonctl's context file `.neon` (`neonctl set-context`)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from neon_sync.config import model as config_mod
from neon_sync.config.model import Config, Neon
from neon_sync.engine.run import read_config
from neon_sync.errors import ConfigError
from neon_sync.neon import api_host

CONTEXT_FILE = ".neon"


def neonctl_project(cwd: Path) -> str | None:
    """The `projectId` of the nearest `.neon` file (here or in a parent), as neonctl reads it."""
    for folder in (cwd, *cwd.parents):
        path = folder / CONTEXT_FILE
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            raise ConfigError(
                f"{path} is not neonctl's JSON context file; fix it or run `neonctl set-context`"
            ) from None
        project = data.get("projectId") if isinstance(data, dict) else None
        if not isinstance(project, str) or not project:
            raise ConfigError(f"{path} has no projectId; run `neonctl set-context --project-id`")
        return project
    return None


def optional_config(
    path: str | None, project_id: str | None, env: Mapping[str, str] | None, cwd: Path
) -> tuple[Config | None, Mapping[str, str]]:
    """The config is optional here: with --project-id alone none is read; without -c a
    neon-sync.yaml is used only when one is found."""
    fallback = os.environ if env is None else env
    if path is None and project_id:
        return None, fallback
    try:
        found = config_mod.find(path, fallback, cwd)
    except ConfigError:
        if path is not None:
            raise
        return None, fallback
    return read_config(found, env)


def settings(
    project_id: str | None,
    config_path: str | None,
    env: Mapping[str, str] | None,
    cwd: Path | None = None,
) -> tuple[Neon, Mapping[str, str]]:
    """The Neon settings (project, default database/role, URL options) and the environment."""
    cwd = cwd or Path.cwd()
    config, env = optional_config(config_path, project_id, env, cwd)
    project = (
        project_id
        or (config.neon.project_id if config else None)
        or env.get("NEON_PROJECT_ID")
        or neonctl_project(cwd)
    )
    if not project:
        raise ConfigError(
            "no project: pass --project-id, set NEON_PROJECT_ID, run `neonctl set-context "
            "--project-id ID` (writes .neon), or use a config file"
        )
    if config is not None:
        return replace(config.neon, project_id=project), env
    return Neon(project, api_host=api_host(env)), env
