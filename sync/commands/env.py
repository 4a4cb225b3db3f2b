"""`neon-sync env` and `neon-sync run`: a branch's strings without a config's rules, as a
document (like `vercel env pull`), merged into a .env file, or injected into a process (like
`doppler run -- CMD`)."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import FrameType

import httpx

from neon_sync.commands.project import settings
from neon_sync.commands.url import find_compute
from neon_sync.config.presets import PRESETS
from neon_sync.config.rules import BRANCH_FIELDS, VALUE_FIELDS
from neon_sync.config.vars import Var, parse_var
from neon_sync.engine.desired import endpoints_by_branch, var_value
from neon_sync.engine.run import neon_client
from neon_sync.errors import ConfigError, NeonSyncError
from neon_sync.neon.connstr import ConnectionInfo
from neon_sync.providers import dotenv
from neon_sync.providers.base import Context, Desired, Write
from neon_sync.secret import Secret

# The names Neon's Vercel integration sets, so an app deployed there reads the same locally.
DEFAULT_VARS: Mapping[str, str] = {"DATABASE_URL": "pooled", "DATABASE_URL_UNPOOLED": "direct"}
FORMATS = ("dotenv", "json", "shell", "github-output")


class CommandNotFound(NeonSyncError):
    exit_code = 127  # what a shell answers for a command it cannot find


def preset_vars(preset: str | None) -> tuple[Var, ...]:
    if preset is None:
        specs: Mapping[str, object] = DEFAULT_VARS
    elif preset in PRESETS:
        specs = PRESETS[preset]
    else:
        known = ", ".join(sorted(PRESETS))
        raise ConfigError(f"unknown preset {preset!r}; known: {known} (or none for the default)")
    allowed = VALUE_FIELDS | set(BRANCH_FIELDS)
    where = f"preset {preset or 'default'}"
    return tuple(parse_var(name, spec, where, allowed) for name, spec in specs.items())


def branch_values(
    branch: str | None,
    *,
    preset: str | None = None,
    database: str | None = None,
    role: str | None = None,
    project_id: str | None = None,
    config_path: str | None = None,
    env: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
    cwd: Path | None = None,
) -> dict[str, Secret]:
    """NAME -> value for one branch (None: the default branch), in the preset's order."""
    wanted = preset_vars(preset)
    neon_settings, env = settings(project_id, config_path, env, cwd)
    neon_settings = replace(
        neon_settings,
        database=database or neon_settings.database,
        role=role or neon_settings.role,
    )
    with neon_client(neon_settings, env, transport) as neon:
        chosen, _ = find_compute(neon, branch)
        endpoints = endpoints_by_branch(neon.endpoints())
        roles = sorted({(chosen.id, var.role or neon_settings.role) for var in wanted})
        passwords = neon.passwords(roles)
        names = {"branch": chosen.name, "branch_id": chosen.id}
        values: dict[str, Secret] = {}
        for var in wanted:
            endpoint = endpoints.get((chosen.id, var.endpoint))
            if endpoint is None:
                raise NeonSyncError(f"branch {chosen.name!r} has no {var.endpoint} compute")
            var_role = var.role or neon_settings.role
            info = ConnectionInfo(
                endpoint.host,
                endpoint.id,
                var_role,
                passwords[(chosen.id, var_role)],
                var.database or neon_settings.database,
            )
            values[var.name] = var_value(neon_settings, var, info, names)
    return values


def render_values(values: Mapping[str, Secret], format_: str) -> str:
    """The document `env` prints. It holds the secrets themselves: the caller asked for them."""
    plain = {name: value.reveal() for name, value in values.items()}
    if format_ == "dotenv":
        return "".join(f"{name}={dotenv.encode(value)}\n" for name, value in plain.items())
    if format_ == "json":
        return json.dumps(plain, indent=2) + "\n"
    if format_ == "shell":
        return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in plain.items())
    if format_ == "github-output":
        # The delimiter form of $GITHUB_OUTPUT / $GITHUB_ENV: safe for any value.
        out = []
        for name, value in plain.items():
            delimiter = f"ghadelimiter_{uuid.uuid4()}"
            out.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
        return "".join(out)
    raise ConfigError(f"--format must be one of {', '.join(FORMATS)}")


def merge_into(path: str, values: Mapping[str, Secret], cwd: Path | None = None) -> list[Write]:
    """Write the values into a .env file through the dotenv provider (only the keys that
    differ; every other byte kept; atomic; a new file is 0600). Returns the writes made."""
    provider = dotenv.create(Context(env=dict(os.environ), base_dir=cwd or Path.cwd()))
    scope = provider.scope("-o", {"path": path})
    current = provider.read([scope])[scope]
    writes = []
    for name, value in values.items():
        desired = Desired(name, value, True, "")
        provider.check_key(scope, desired)
        found = current.get(name)
        if found is None:
            writes.append(Write("create", name, desired, None))
        elif found.value != value.reveal():
            writes.append(Write("update", name, desired, found))
    if writes:
        provider.apply(scope, writes)
    return writes


def run_command(argv: Sequence[str], values: Mapping[str, Secret]) -> int:
    """Run argv with the values added to the environment; its exit status (128+N when a
    signal N ended it, as shells report). SIGINT and SIGTERM sent to neon-sync reach it."""
    if not argv:
        raise ConfigError("no command to run: write it after --, e.g. neon-sync run -- npm test")
    child_env = {**os.environ, **{name: value.reveal() for name, value in values.items()}}
    try:
        child = subprocess.Popen(list(argv), env=child_env)  # noqa: S603 (the user's command)
    except FileNotFoundError:
        raise CommandNotFound(f"command not found: {argv[0]}; check its name and PATH") from None
    except PermissionError:
        raise CommandNotFound(f"cannot execute {argv[0]}: permission denied") from None

    def forward(signum: int, _frame: FrameType | None) -> None:
        if child.poll() is None:
            child.send_signal(signum)

    # Handlers can only be set from the main thread (not so when embedded in another program).
    forwarded = (signal.SIGINT, signal.SIGTERM)
    main = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, forward) for s in forwarded} if main else {}
    try:
        status = child.wait()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 128 - status if status < 0 else status
