"""`neon-sync demo --postgres`: after the demo's sync, a throwaway local Postgres and PgBouncer
holding the Neon emulator's roles, passwords and databases, and `check` connecting through
every string the demo wrote, each endpoint's hosts resolved to the local server."""

from __future__ import annotations

from neon_sync.commands.check import check_config
from neon_sync.emulators.neon import NeonEmulator
from neon_sync.emulators.postgres import local_postgres
from neon_sync.errors import NeonSyncError
from neon_sync.neon.connstr import pooled_host
from neon_sync.render import check as render
from neon_sync.render import console as output


def check_demo(neon: NeonEmulator, project_id: str, config: str, env: dict[str, str]) -> bool:
    """Start the local servers, check every string; True when all connected."""
    with neon.lock:
        project = neon.projects[project_id]
        roles: dict[str, str] = {}
        databases: dict[str, str] = {}
        for branch in project.branches.values():
            for role in branch.roles.values():
                # One server stands in for every branch: a role must have one password.
                if roles.setdefault(role.name, role.password) != role.password:
                    raise NeonSyncError(f"role {role.name!r} has different passwords per branch")
            databases.update({db.name: db.owner for db in branch.databases.values()})
        hosts = [endpoint.host for endpoint in project.endpoints.values()]
    suffixes = sorted({"*." + host.partition(".")[2] for host in hosts})
    output.heading("neon-sync check, against a local Postgres and PgBouncer")
    with local_postgres(roles, databases, suffixes) as pg:
        resolve: dict[str, tuple[str, int]] = {}
        for host in hosts:
            resolve |= pg.resolve_for(host, pooled_host(host))
        pooled = frozenset(pooled_host(host) for host in hosts)
        output.note(
            f"Postgres on {pg.address}:{pg.direct_port}, PgBouncer (transaction mode) on "
            f"{pg.address}:{pg.pooled_port}; every endpoint's hosts resolve there. PgBouncer "
            "offers no channel binding (Neon's proxy does): pooled strings are checked with "
            "channel_binding=prefer."
        )
        checked, errors = check_config(config, [], resolve, env, no_channel_binding=pooled)
    render.report(checked, errors, as_json=False)
    return bool(checked) and all(c.result.ok for c in checked) and not errors
