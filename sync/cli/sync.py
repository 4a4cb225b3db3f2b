"""`plan` and `sync`: the two commands of the main workflow."""

from __future__ import annotations

from typing import Annotated

import typer

from neon_sync.cli.options import (
    BranchOpt,
    ConfigOpt,
    ForceOpt,
    JsonOpt,
    PruneOpt,
    handled,
    stop_if_interrupted,
)

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
    force: ForceOpt = False,
) -> None:
    """Show what sync would do. Writes nothing; with --prune, the prune guard's verdict too."""
    from neon_sync.engine.run import open_run
    from neon_sync.render.plan import Report, report

    with open_run(config) as run:
        result = run.plan(branch or (), prune, force=force)
    report(Report.of_plan(result, json_out), as_json=json_out)
    if result.failed:
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
    force: ForceOpt = False,
) -> None:
    """Write the configured connection strings to every target that needs them."""
    from neon_sync.engine.interrupt import Interrupt
    from neon_sync.engine.run import open_run
    from neon_sync.render import console as output
    from neon_sync.render.plan import Report, report

    interrupt = Interrupt()
    with interrupt.installed(), open_run(config) as run:
        run.interrupt = interrupt
        if dry_run:
            result = run.plan(branch or (), prune, force=force)
            done, failed = Report.of_plan(result, json_out), result.failed
        else:
            bar = output.ProgressBar()
            try:
                outcome = run.sync(branch or (), prune, progress=bar, force=force)
            finally:
                bar.close()
            done, failed = Report.of_outcome(outcome), outcome.failed
    report(done, as_json=json_out)
    stop_if_interrupted(interrupt)
    if failed:
        raise typer.Exit(1)
