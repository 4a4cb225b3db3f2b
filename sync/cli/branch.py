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
    name: Annotated[str, typer.Argument(metavar="BRANCH", help="Branch name, e.g. preview/pr-42")],
    config: ConfigOpt = None,
    parent: Annotated[
        str | None, typer.Option("--parent", metavar="BRANCH", help="Parent branch name or id.")
    ] = None,
    expires_in: Annotated[
        str | None,
        typer.Option("--expires-in", metavar="DURATION", help="Delete after this long: 12h, 7d"),
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
    name: Annotated[str, typer.Argument(metavar="BRANCH", help="Branch name or id")],
    config: ConfigOpt = None,
    sync: SyncOpt = True,
    json_out: JsonOpt = False,
) -> None:
    """Remove what neon-sync wrote for a branch from every target, then delete it in Neon."""
    from neon_sync.commands.branch import delete_branch
    from neon_sync.engine.plan import Action
    from neon_sync.engine.run import open_run
    from neon_sync.neon.resolve import find_branch
    from neon_sync.render import console as output

    with open_run(config) as run:
        existing = find_branch(run.neon.branches(), name)  # cached: no extra request
        outcome = delete_branch(run, name, sync=sync)
    removed = [
        {"target": c.target, "scope": c.scope_id, "key": c.key}
        for c in (outcome.plan.changes if outcome else [])
        if c.action is Action.DELETE
    ]
    about = {
        "name": existing.name if existing else name,
        "id": existing.id if existing else None,
        "deleted": existing is not None,  # False: it was already gone in Neon
    }
    if not json_out:
        for row in removed:
            output.note(f"removed {row['key']} from {row['target']} ({row['scope']})")
        if existing is not None:
            output.note(f"deleted Neon branch {existing.name} ({existing.id})")
        else:
            output.note(f"Neon branch {name} was already gone")
    _report(outcome, json_out, {"branch": about, "removed": removed})


def stdin_is_terminal() -> bool:
    import sys

    return sys.stdin.isatty()


@handled
def rotate(
    branch: Annotated[str, typer.Argument(metavar="BRANCH", help="Branch name")],
    config: ConfigOpt = None,
    role: Annotated[
        str | None, typer.Option("--role", "-r", metavar="NAME", help="Default: neon.role")
    ] = None,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask; needed without a terminal.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the keys that would change; reset nothing.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Reset a role's password in Neon, then update every target that holds it."""
    from neon_sync.commands.branch import Rotation
    from neon_sync.commands.branch import rotate as rotate_password
    from neon_sync.engine.run import open_run
    from neon_sync.errors import ConfigError

    if not (yes or dry_run or stdin_is_terminal()):
        raise ConfigError(
            "rotate resets a password that running apps use; pass --yes to confirm "
            "(there is no terminal to ask on), or --dry-run to see what would change"
        )

    def confirm(preview: Rotation) -> bool:
        keys = len(preview.plan.changes)
        where = ", ".join(preview.targets) or "no target"
        return typer.confirm(
            f"Reset the password of role {preview.role!r} on branch {preview.branch!r} "
            f"and update {keys} key(s) in {where}?",
            err=True,
        )

    with open_run(config) as run:
        outcome = rotate_password(
            run, branch, role=role, dry_run=dry_run, confirm=None if yes else confirm
        )
    if dry_run:
        from neon_sync.render.plan import Report, report

        report(Report(outcome.plan.changes, outcome.errors, applied=False), as_json=json_out)
        if outcome.errors:
            raise typer.Exit(1)
        return
    _report(outcome, json_out)
