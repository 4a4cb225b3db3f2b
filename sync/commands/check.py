"""`neon-sync check`: connect through every string the config would write (or one already in
the environment) and report, per variable, whether it works and why not."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neon_sync.check.probe import Result, probe, require_driver
from neon_sync.check.target import Target, looks_like_connection, read
from neon_sync.errors import ConfigError


@dataclass(frozen=True)
class Checked:
    name: str
    where: str  # "target (scope) @ branch", or where the string came from
    format: str
    result: Result

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "where": self.where, "format": self.format,
                **self.result.to_json()}  # fmt: skip


def parse_resolve(entries: Sequence[str]) -> dict[str, tuple[str, int]]:
    """curl-style HOST=ADDR:PORT (also HOST:PORT:ADDR, curl's own order) -> {host: (addr, port)}."""
    out: dict[str, tuple[str, int]] = {}
    for entry in entries:
        host, eq, rest = entry.partition("=")
        address, colon, port = rest.rpartition(":")
        if not (eq and colon and host and address and port.isdigit()):
            raise ConfigError(f"--resolve {entry!r}: expected HOST=ADDRESS:PORT")
        out[host] = (address.strip("[]"), int(port))
    return out


def check_env(
    name: str, resolve: Mapping[str, tuple[str, int]], env: Mapping[str, str] | None = None
) -> list[Checked]:
    """The string in variable `name`: from the environment, else from ./.env."""
    require_driver()
    value = (os.environ if env is None else env).get(name)
    where = "environment"
    if value is None and Path(".env").is_file():
        from dotenv import dotenv_values

        value, where = dotenv_values(".env").get(name), ".env"
    if not value:
        raise ConfigError(f"{name} is not set in the environment or in ./.env")
    return [_one(name, where, value, resolve=resolve)]


def check_config(
    config_path: str | None,
    branches: Sequence[str],
    resolve: Mapping[str, tuple[str, int]],
    env: Mapping[str, str] | None = None,
    no_channel_binding: frozenset[str] = frozenset(),
) -> tuple[list[Checked], dict[str, str]]:
    """Every connection string the config would write for `branches` (all when empty), each
    checked once however many targets it goes to; plus targets that could not be resolved."""
    require_driver()
    from neon_sync.engine.apply import select_branches
    from neon_sync.engine.desired import resolve as desire
    from neon_sync.engine.run import open_run

    with open_run(config_path, env) as run:
        selected = select_branches(run.neon.branches(), branches, prune=False)
        found = desire(run.config, run.neon, selected, run.providers)
    places: dict[tuple[str, str, str], dict[str, str]] = {}
    for entry in found.entries:
        place = (entry.scope.target, entry.scope.id, entry.desired.branch)
        places.setdefault(place, {})[entry.desired.key] = entry.desired.value.reveal()
    seen: dict[str, tuple[str, str, dict[str, str]]] = {}
    for (target, scope, branch), values in places.items():
        for key, value in values.items():
            if looks_like_connection(value) and value not in seen:
                seen[value] = (key, f"{target} ({scope}) @ {branch}", _siblings(key, values))
    jobs = [(name, where, value, extra) for value, (name, where, extra) in seen.items()]
    with ThreadPoolExecutor(max_workers=8) as pool:
        checked = list(
            pool.map(lambda job: _one(*job, resolve=resolve, relax=no_channel_binding), jobs)
        )
    return checked, found.errors


def _siblings(key: str, values: Mapping[str, str]) -> dict[str, str]:
    """JDBC_DATABASE_URL's credentials in JDBC_DATABASE_USERNAME/_PASSWORD (Spring's alike)."""
    stem = key.removesuffix("_URL")
    user, password = values.get(f"{stem}_USERNAME"), values.get(f"{stem}_PASSWORD")
    return {"user": user, "password": password} if user and password else {}


def _one(
    name: str,
    where: str,
    value: str,
    extra: Mapping[str, str] | None = None,
    *,
    resolve: Mapping[str, tuple[str, int]],
    relax: frozenset[str] = frozenset(),
) -> Checked:
    target = read(value)
    if not target.has_password and extra:
        target = Target(target.format, {**target.params, **extra})
    if not target.has_password:
        result = Result(False, target.pooled, target.host, cause="skipped: no password in it")
        return Checked(name, where, target.format, result)
    return Checked(name, where, target.format, probe(target, resolve, no_channel_binding=relax))


def failed(checked: Sequence[Checked]) -> bool:
    return any(not c.result.ok and c.result.error for c in checked)


__all__ = ["Checked", "Target", "check_config", "check_env", "failed", "parse_resolve"]
