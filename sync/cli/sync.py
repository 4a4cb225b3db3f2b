"""`plan` and `sync`: the two commands of the main workflow."""

from __future__ import annotations

from typing import Annotated

import typer

from neon_sync.cli.options import BranchOpt, ConfigOpt, JsonOpt, PruneOpt, handled

EXIT_PENDING = 3


def register(app: typer.Typer) -> None:
    app.command()(plan)
    app.command("sync")(sync_)


@handled
def plan(
    config: ConfigOpt = None,
    branch: BranchOpt = None,
    prune: PruneOpt = False,
    json_out: JsonOpt = False,
    exit_code: Annotated[
        bool, typer.Option("--exit-code", help="Exit 3 when changes are pending.")
    ] = False,
) -> None:
    """Show what sync would do. Writes nothing."""
    from neon_sync.engine.run import open_run
    from neon_sync.render.plan import Report, report

    with open_run(config) as run:
        result = run.plan(branch or (), prune)
    report(Report(result.changes, result.errors, applied=False), as_json=json_out)
    if result.errors:
        raise typer.Exit(1)
    if exit_code and result.pending:
        raise typer.Exit(EXIT_PENDING)


@handled
def sync_(
    config: ConfigOpt = None,
    branch: BranchOpt = None,
    prune: PruneOpt = False,
    json_out: JsonOpt = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan only; same as `plan`.")] = False,
) -> None:
    """Write the configured connection strings to every target that needs them."""
    from neon_sync.engine.run import open_run
    from neon_sync.render import console as output
    from neon_sync.render.plan import Report, report

    notes: list[str] = []
    with open_run(config) as run:
        if dry_run:
            result = run.plan(branch or (), prune)
            changes, errors, applied = result.changes, result.errors, False
        else:
            bar = output.ProgressBar()
            try:
                outcome = run.sync(branch or (), prune, progress=bar)
            finally:
                bar.close()
            changes, errors, applied = outcome.plan.changes, outcome.errors, True
            notes = outcome.notes
    report(Report(changes, errors, applied, notes), as_json=json_out)
    if errors:
        raise typer.Exit(1)
