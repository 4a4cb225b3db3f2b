"""CLI commands for a branch's life: `branch create`, `branch delete`, `rotate`."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from neon_sync.cli.options import (
    ConfigOpt,
    ForceOpt,
    JsonOpt,
    handled,
    parse_duration,
    stop_if_interrupted,
)
from neon_sync.engine.interrupt import Interrupt


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


def _report(
    outcome: Any, json_out: bool, extra: dict[str, Any] | None = None, interrupt: Any = None
) -> None:
    """Print a sync outcome (or just `extra` when nothing was synced); exit 1 on errors,
    130/143 when a signal cut the run short."""
    from neon_sync.render.plan import PlanJson, Report, report

    if outcome is None:
        if json_out:
            PlanJson().render(Report([], {}, applied=False, extra=extra or {}), sys.stdout)
        if interrupt is not None:
            stop_if_interrupted(interrupt)
        return
    report(Report.of_outcome(outcome, extra), as_json=json_out)
    if interrupt is not None:
        stop_if_interrupted(interrupt)
    if outcome.failed:
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
    from neon_sync.errors import NeonSyncError
    from neon_sync.render import console as output

    seconds = parse_duration(expires_in) if expires_in else None
    about: dict[str, Any] = {}

    def ready(branch: Any, new: bool) -> None:
        about.update(id=branch.id, name=branch.name, created=new)
        if not json_out:
            print(branch.id, flush=True)  # scripts read it even if the sync then fails

    interrupt = Interrupt()
    try:
        with interrupt.installed(), open_run(config) as run:
            run.interrupt = interrupt
            made = create_branch(
                run, name, parent=parent, expires_in=seconds, sync=sync, on_ready=ready
            )
    except NeonSyncError as exc:
        if json_out and about:  # the branch exists: its document still goes out
            doc = {"changes": [], "errors": [{"message": str(exc)}], "applied": False}
            output.print_json({"branch": about, **doc})
            exc.json_printed = True  # type: ignore[attr-defined]
        raise
    _report(made.outcome, json_out, {"branch": about}, interrupt)


@branch_app.command("delete")
@handled
def branch_delete(
    name: Annotated[str, typer.Argument(metavar="BRANCH", help="Branch name or id")],
    config: ConfigOpt = None,
    sync: SyncOpt = True,
    json_out: JsonOpt = False,
    force: ForceOpt = False,
) -> None:
    """Remove what neon-sync wrote for a branch from every target, then delete it in Neon."""
    from neon_sync.commands.branch import delete_branch
    from neon_sync.engine.plan import Action
    from neon_sync.engine.run import open_run
    from neon_sync.neon.resolve import find_branch
    from neon_sync.render import console as output

    interrupt = Interrupt()
    with interrupt.installed(), open_run(config) as run:
        run.interrupt = interrupt
        existing = find_branch(run.neon.branches(), name)  # cached: no extra request
        outcome = delete_branch(run, name, sync=sync, force=force)
    removed = [
        {"target": c.target, "scope": c.scope_id, "key": c.key}
        for c in (outcome.done if outcome else [])  # what was removed, not what was due
        if c.action is Action.DELETE
    ]
    stopped = interrupt.signum is not None  # a signal ended the prune: the branch stays
    about = {
        "name": existing.name if existing else name,
        "id": existing.id if existing else None,
        "deleted": existing is not None and not stopped,  # False: already gone, or kept
    }
    if not json_out:
        for row in removed:
            output.note(f"removed {row['key']} from {row['target']} ({row['scope']})")
        if existing is not None and not stopped:
            output.note(f"deleted Neon branch {existing.name} ({existing.id})")
        elif existing is None:
            output.note(f"Neon branch {name} was already gone")
    _report(outcome, json_out, {"branch": about, "removed": removed}, interrupt)


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

    interrupt = Interrupt()
    with interrupt.installed(), open_run(config) as run:
        run.interrupt = interrupt
        outcome = rotate_password(
            run, branch, role=role, dry_run=dry_run, confirm=None if yes else confirm
        )
    if dry_run:
        from neon_sync.render.plan import Report, report

        report(Report.of_plan(outcome.plan, as_json=json_out), as_json=json_out)
        if outcome.plan.failed:
            raise typer.Exit(1)
        return
    _report(outcome, json_out, None, interrupt)
