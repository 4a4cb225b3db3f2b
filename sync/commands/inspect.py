"""`neon-sync branches` and `neon-sync validate`: looking at a config without syncing."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neon_sync.config import model as config_mod
from neon_sync.config.model import Config
from neon_sync.engine.desired import Providers, expand_options
from neon_sync.engine.run import neon_client, read_config
from neon_sync.errors import ConfigError, ProviderError
from neon_sync.providers.base import Context, Desired
from neon_sync.secret import Secret

_PLACEHOLDER = re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class BranchRow:
    name: str
    id: str
    default: bool
    rules: tuple[str, ...]  # where each matching rule is (file:line:col)
    targets: tuple[str, ...]


def _load(path: str | None) -> Config:
    config, _env = read_config(config_mod.find(path, os.environ, Path.cwd()), None)
    return config


def branch_matches(path: str | None) -> list[BranchRow]:
    config = _load(path)
    with neon_client(config.neon, os.environ) as neon:
        found = neon.branches()
    rows = []
    for branch in sorted(found, key=lambda b: (not b.default, b.name)):
        rules = [rule for rule, _captures in config.matching(branch.name, branch.default)]
        targets = sorted({item.target for rule in rules for item in rule.items})
        rows.append(
            BranchRow(
                branch.name,
                branch.id,
                branch.default,
                tuple(r.where for r in rules),
                tuple(targets),
            )
        )
    return rows


def validate_config(path: str | None, *, offline: bool = False) -> tuple[Path, int]:
    """Load the config and put every sync item through its provider's checks, with each
    placeholder standing for itself. No API is called; no token is needed. `offline`: an
    unset ${VAR} is a placeholder too (a lint step on any checkout), and the options that
    hold one are left to the run that has the environment."""
    if offline:
        found = config_mod.find(path, os.environ, Path.cwd())
        config = config_mod.load(found, os.environ, offline=True)
    else:
        config = _load(path)
    made = Providers(Context(env=dict(os.environ), base_dir=config.base_dir))
    for rule in config.rules:
        names = {"branch": "branch", "branch_id": "br-branch-id"}
        names.update({capture: capture for capture in rule.matcher.captures})
        for item in rule.items:
            target = config.targets[item.target]
            try:
                provider = made.get(target.provider)
            except ProviderError:
                continue  # not installed here: a run reports it for this target
            options = expand_options(item.options, names)
            if offline and _unset_placeholder(options):
                continue
            try:
                scope = provider.scope(item.target, options)
                for var in item.vars:
                    provider.check_key(scope, Desired(var.name, Secret("x"), var.secret, "branch"))
            except ConfigError as exc:
                raise ConfigError(str(exc), None if exc.where else item.where) from None
    made.close()
    return config.path, len(config.rules)


def _unset_placeholder(options: Mapping[str, Any]) -> bool:
    """Whether an option still holds an offline `$VAR` placeholder."""
    values = [
        v for value in options.values() for v in (value if isinstance(value, list) else [value])
    ]
    return any(isinstance(v, str) and _PLACEHOLDER.search(v) for v in values)
