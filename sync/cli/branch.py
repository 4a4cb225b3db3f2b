"""CLI commands for a branch's life: `branch create`, `branch delete`, `rotate`."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from neon_sync.cli.options import ConfigOpt, JsonOpt, handled, parse_duration


def register(app: typer.Typer) -> None:
    app.add_typer(branch_app, name="branch")
    app.command()(rotate)


branch_app = typer.Typer(
    help="Create or delete a Neon branch and sync its targets in one step.",
    no_args_is_help=True,
)
SyncOpt = Annotated[
    bool, typer.Option("--sync/--no-sync", help="Sync (or prune) the branch's targets too.")
]


def _report(outcome: Any, json_out: bool, extra: dict[str, Any] | None = None) -> None:
    """Print a sync outcome (or just `extra` when nothing was synced); exit 1 on errors."""
    from neon_sync.render.plan import PlanJson, Report, report

    if outcome is None:
        if json_out:
            PlanJson().render(Report([], {}, applied=False, extra=extra or {}), sys.stdout)
        return
    done = Report(outcome.plan.changes, outcome.errors, True, outcome.notes, extra or {})
    report(done, as_json=json_out)
    if outcome.errors:
        raise typer.Exit(1)


@branch_app.command("create")
@handled
def branch_create(
    name: Annotated[str, typer.Argument(help="Branch name, e.g. preview/pr-42")],
    config: ConfigOpt = None,
    parent: Annotated[
        str | None, typer.Option("--parent", help="Parent branch name or id.")
    ] = None,
    expires_in: Annotated[
        str | None, typer.Option("--expires-in", help="Delete after this long: 12h, 7d, ...")
    ] = None,
    sync: SyncOpt = True,
    json_out: JsonOpt = False,
) -> None:
    """Get or create a branch (with a read_write compute), then sync its targets."""
    from neon_sync.commands.branch import create_branch
    from neon_sync.engine.run import open_run

    seconds = parse_duration(expires_in) if expires_in else None
    with open_run(config) as run:
        made = create_branch(run, name, parent=parent, expires_in=seconds, sync=sync)
    if not json_out:
        print(made.branch.id)
    about = {"id": made.branch.id, "name": made.branch.name, "created": made.new}
    _report(made.outcome, json_out, {"branch": about})


@branch_app.command("delete")
@handled
def branch_delete(
    name: Annotated[str, typer.Argument(help="Branch name")],
    config: ConfigOpt = None,
    sync: SyncOpt = True,
    json_out: JsonOpt = False,
) -> None:
    """Remove what neon-sync wrote for a branch from every target, then delete it in Neon."""
    from neon_sync.commands.branch import delete_branch
    from neon_sync.engine.run import open_run

    with open_run(config) as run:
        outcome = delete_branch(run, name, sync=sync)
    _report(outcome, json_out, {"branch": {"name": name, "deleted": True}})


@handled
def rotate(
    branch: Annotated[str, typer.Argument(help="Branch name")],
    config: ConfigOpt = None,
    role: Annotated[str | None, typer.Option("--role", "-r", help="Default: neon.role")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Reset a role's password in Neon, then update every target that holds it."""
    from neon_sync.commands.branch import rotate as rotate_password
    from neon_sync.engine.run import open_run

    with open_run(config) as run:
        outcome = rotate_password(run, branch, role=role)
    _report(outcome, json_out)
