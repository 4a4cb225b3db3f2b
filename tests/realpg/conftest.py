"""The real-Postgres layer: a Postgres server (TLS, SCRAM-SHA-256) with PgBouncer in
transaction mode in front, whose roles, passwords and databases are the Neon emulator's; and
the strings neon-sync writes for every preset, by a real `sync` into .env files.

Neon's host names do not resolve here. Drivers keep every byte of the string as written and
are pointed at the local server only at the address level (libpq's hostaddr, a socket-level
host:port swap in Node, a host:port swap where a driver has nothing narrower); the written
hosts are checked separately against the emulator's endpoint."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest
from dotenv import dotenv_values

from neon_sync.config.presets import PRESETS
from neon_sync.emulators.neon import NeonEmulator
from neon_sync.emulators.postgres import LocalPostgres, local_postgres, missing_binaries
from neon_sync.emulators.server import serve
from neon_sync.engine.run import open_run
from neon_sync.neon.connstr import pooled_host

KEY = "realpg-neon-key"
# Characters that need escaping in a URL, a dsn or a .NET key-value string, and a space.
OWNER_PASSWORD = "p@ss:w/rd?#x%41&y+z w;'\""
APP_ROLE = "app user@team"
APP_PASSWORD = "a b+c&d=e/f?g#h%i:j@k"
APP_DATABASE = "shop data"


@dataclass(frozen=True)
class Strings:
    """What a real `neon-sync sync` wrote for every preset, against the Neon emulator."""

    direct_host: str
    pooled_host: str
    written: dict[str, dict[str, str]]  # preset (or "app") -> the .env file written for it
    config: Path
    env: dict[str, str]  # reaches the emulator, which stays up for the session


@dataclass(frozen=True)
class Layer(Strings):
    pg: LocalPostgres

    def resolve(self) -> dict[str, tuple[str, int]]:
        return self.pg.resolve_for(self.direct_host, self.pooled_host)

    def port_for(self, host: str) -> int:
        assert host in (self.direct_host, self.pooled_host), "not a host of the endpoint"
        return self.pg.pooled_port if host == self.pooled_host else self.pg.direct_port


def missing(reason: str) -> NoReturn:
    """Skip for want of a runtime; but .ci/run installs them all and sets
    NEON_SYNC_REALPG=required, and there a missing one is a failure, not a skip."""
    if os.environ.get("NEON_SYNC_REALPG") == "required":
        pytest.fail(f"missing {reason}")
    pytest.skip(f"needs {reason}")


def require_or_skip() -> None:
    absent = missing_binaries()
    if absent:
        missing(f"{', '.join(absent)} (apt-get install postgresql pgbouncer)")


def _config(folder: Path) -> Path:
    lines = [
        "version: 1",
        "neon:",
        "  project_id: ${NEON_PROJECT_ID}",
        "targets:",
    ]
    lines += [f"  {name}:\n    provider: dotenv\n    path: .env.{name}" for name in PRESETS]
    lines += ["  app:", "    provider: dotenv", "    path: .env.app"]
    lines += ["branches:", "  - match: main", "    sync:"]
    lines += [f"      - target: {name}\n        preset: {name}" for name in PRESETS]
    # A second role and database whose names need escaping, in every format.
    lines += ["      - target: app", "        vars:"]
    for fmt in ("uri", "dsn", "jdbc", "sqlalchemy", "npgsql", "prisma"):
        for kind in ("pooled", "direct"):
            lines.append(
                f"          {fmt.upper()}_{kind.upper()}: "
                f"{{url: {kind}, format: {fmt}, role: {APP_ROLE!r}, database: {APP_DATABASE!r}}}"
            )
    path = folder / "neon-sync.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def strings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Strings]:
    neon = NeonEmulator(api_key=KEY)
    project = neon.add_project("realpg", region="aws-us-east-2")
    neon.add_role(project, "main", "neondb_owner", OWNER_PASSWORD)
    neon.add_role(project, "main", APP_ROLE, APP_PASSWORD)
    neon.add_database(project, "main", APP_DATABASE, owner=APP_ROLE)
    direct = neon.endpoint(project, "main")["host"]
    folder = tmp_path_factory.mktemp("realpg")
    config = _config(folder)
    with serve(neon.handle) as url:
        env = {"NEON_API_HOST": url + "/api/v2", "NEON_API_KEY": KEY, "NEON_PROJECT_ID": project}
        with open_run(str(config), env) as run:
            outcome = run.sync()
        assert not outcome.errors, outcome.errors
        written = {
            path.name.removeprefix(".env."): {k: v or "" for k, v in dotenv_values(path).items()}
            for path in folder.glob(".env.*")
        }
        yield Strings(direct, pooled_host(direct), written, config, env)


@pytest.fixture(scope="session")
def layer(strings: Strings) -> Iterator[Layer]:
    """The strings, and a local Postgres + PgBouncer holding their roles and databases."""
    require_or_skip()
    roles = {"neondb_owner": OWNER_PASSWORD, APP_ROLE: APP_PASSWORD}
    databases = {"neondb": "neondb_owner", APP_DATABASE: APP_ROLE}
    # The wildcard covers the endpoint's direct and -pooler hosts, so drivers that verify
    # the certificate (node-postgres) can, given it as a CA.
    wildcard = "*." + strings.direct_host.partition(".")[2]
    with local_postgres(roles, databases, [wildcard]) as pg:
        yield Layer(**vars(strings), pg=pg)
