"""The command line. Each command parses its options and calls one plain function; this is
the only place that turns errors into messages and exit codes:
0 success, 1 runtime failure (API, provider), 2 usage or config error, 3 changes pending
(`plan --exit-code`)."""

from __future__ import annotations

from typing import Annotated

import typer

from neon_sync import __version__
from neon_sync.cli import branch as cli_lifecycle
from neon_sync.cli.options import (
    BranchOpt,
    ConfigOpt,
    ForceOpt,
    JsonOpt,
    PruneOpt,
    handled,
    note_lock_waits,
    stop_if_interrupted,
)

EXIT_PENDING = 3

app = typer.Typer(
    name="neon-sync",
    help="Keep Neon branch connection strings in step with .env files, GitHub and Vercel.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.command()
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
    """Show what sync would do, and whether the prune guard would let it. Writes nothing."""
    from neon_sync.engine.run import open_run
    from neon_sync.render import console as output

    with open_run(config) as run:
        result = run.plan(branch or (), prune, force=force)
    output.report_plan(result, as_json=json_out)
    if result.failed:
        raise typer.Exit(1)
    if exit_code and result.pending:
        raise typer.Exit(EXIT_PENDING)


@app.command("sync")
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

    interrupt = Interrupt()
    with interrupt.installed(), open_run(config) as run:
        run.interrupt = interrupt
        if dry_run:
            result = run.plan(branch or (), prune, force=force)
            output.report_plan(result, as_json=json_out)
            failed = result.failed
        else:
            bar = output.ProgressBar()
            try:
                outcome = run.sync(branch or (), prune, progress=bar, force=force)
            finally:
                bar.close()
            output.report_outcome(outcome, as_json=json_out)
            failed = outcome.failed
    stop_if_interrupted(interrupt)
    if failed:
        raise typer.Exit(1)


@app.command()
@handled
def url(
    branch: Annotated[
        str | None, typer.Argument(help="Branch name or id (default: the default branch)")
    ] = None,
    pooled: Annotated[bool, typer.Option("--pooled", help="Through the PgBouncer pooler.")] = False,
    database: Annotated[str | None, typer.Option("--database", "-d")] = None,
    role: Annotated[str | None, typer.Option("--role", "-r")] = None,
    endpoint_type: Annotated[
        str, typer.Option("--endpoint-type", help="read_write or read_only")
    ] = "read_write",
    format_: Annotated[str, typer.Option("--format", help="uri, jdbc, dsn or prisma")] = "uri",
    project_id: Annotated[str | None, typer.Option("--project-id")] = None,
    config: ConfigOpt = None,
) -> None:
    """Print one connection string (this command alone prints a secret, on purpose)."""
    from neon_sync.commands.url import connection_string

    value = connection_string(
        branch,
        pooled=pooled,
        database=database,
        role=role,
        endpoint_type=endpoint_type,
        format_=format_,
        project_id=project_id,
        config_path=config,
    )
    print(value.reveal())


@app.command()
@handled
def branches(config: ConfigOpt = None, json_out: JsonOpt = False) -> None:
    """List Neon's branches and the rules and targets each one matches."""
    from neon_sync.commands.inspect import branch_matches
    from neon_sync.render import console as output

    with_run = branch_matches(config)
    output.print_branches(with_run, json_out)


@app.command()
@handled
def validate(config: ConfigOpt = None) -> None:
    """Check the config without calling any API."""
    from neon_sync.commands.inspect import validate_config
    from neon_sync.render import console as output

    path, count = validate_config(config)
    output.note(f"{path}: ok ({count} rules)")


@app.command()
@handled
def demo(
    keep: Annotated[
        str | None, typer.Option("--keep", help="Write the demo's files into this folder.")
    ] = None,
) -> None:
    """Run the example neon-sync.yaml against bundled emulators: no account, no network."""
    from neon_sync.commands.demo import run_demo

    run_demo(keep)


def _version(value: bool) -> None:
    if value:
        print(f"neon-sync {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    pass


cli_lifecycle.register(app)


def main() -> None:
    import logging
    import sys

    from neon_sync.render import actions

    # Providers log what they did beyond plain writes; the CLI prints those notes itself.
    logging.getLogger("neon_sync").addHandler(logging.NullHandler())
    note_lock_waits()
    if actions.active():
        # On stderr: stdout is for what scripts capture (a JSON document, `url`'s string),
        # and the runner reads workflow commands on both streams.
        actions.start_masking(sys.stderr)
    app()
