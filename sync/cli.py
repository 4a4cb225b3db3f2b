"""The command line. Each command parses its options and calls one plain function; this is
the only place that turns errors into messages and exit codes:
0 success, 1 runtime failure (API, provider), 2 usage or config error, 3 changes pending
(`plan --exit-code`)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from sync import __version__

EXIT_PENDING = 3
F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    name="neon-sync",
    help="Keep Neon branch connection strings in step with .env files, GitHub and Vercel.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

ConfigOpt = Annotated[
    str | None,
    typer.Option(
        "--config", "-c", help="Config file (default: $NEON_SYNC_CONFIG, ./neon-sync.yaml)"
    ),
]
BranchOpt = Annotated[
    list[str] | None,
    typer.Option("--branch", "-b", help="Only these Neon branches (repeatable)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
PruneOpt = Annotated[
    bool, typer.Option("--prune", help="Delete what neon-sync wrote for branches that are gone.")
]


def handled(command: F) -> F:
    """Map neon-sync's errors to a one-line message and its exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from sync import output
        from sync.errors import NeonSyncError

        try:
            return command(*args, **kwargs)
        except NeonSyncError as exc:
            output.error(str(exc))
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            output.error("interrupted")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


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
) -> None:
    """Show what sync would do. Writes nothing."""
    from sync import output
    from sync.run import open_run

    with open_run(config) as run:
        result = run.plan(branch or (), prune)
    output.report(result.changes, result.errors, applied=False, as_json=json_out)
    if result.errors:
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
) -> None:
    """Write the configured connection strings to every target that needs them."""
    from sync import output
    from sync.run import open_run

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
            for line in outcome.notes:
                output.note(line)
    output.report(changes, errors, applied=applied, as_json=json_out)
    if errors:
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
    from sync.connect import connection_string

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
    from sync import output
    from sync.overview import branch_matches

    with_run = branch_matches(config)
    output.print_branches(with_run, json_out)


@app.command()
@handled
def validate(config: ConfigOpt = None) -> None:
    """Check the config without calling any API."""
    from sync import output
    from sync.overview import validate_config

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
    from sync.demo import run_demo

    run_demo(keep)


branch_app = typer.Typer(
    help="Create or delete a Neon branch and sync its targets in one step.",
    no_args_is_help=True,
)
app.add_typer(branch_app, name="branch")
SyncOpt = Annotated[
    bool, typer.Option("--sync/--no-sync", help="Sync (or prune) the branch's targets too.")
]


def parse_duration(text: str) -> float:
    """'30s', '5m', '2h', '7d' or plain seconds -> seconds."""
    from sync.errors import ConfigError

    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "s")
    try:
        seconds = float(number) * units[unit]
    except ValueError:
        raise ConfigError(f"bad duration {text!r}; write e.g. 30s, 5m, 2h or 7d") from None
    if seconds <= 0:
        raise ConfigError(f"duration {text!r} must be positive")
    return seconds


def _report(outcome: Any, json_out: bool, extra: dict[str, Any] | None = None) -> None:
    """Print a sync outcome (or just `extra` when nothing was synced); exit 1 on errors."""
    from sync import output

    changes = outcome.plan.changes if outcome else []
    errors = outcome.errors if outcome else {}
    if json_out:
        output.print_json(
            {**(extra or {}), **output.document(changes, errors, outcome is not None)}
        )
    elif outcome is not None:
        output.print_plan(changes, errors, applied=True)
        for line in outcome.notes:
            output.note(line)
    if errors:
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
    from sync.lifecycle import create_branch
    from sync.run import open_run

    seconds = parse_duration(expires_in) if expires_in else None
    with open_run(config) as run:
        branch, outcome = create_branch(run, name, parent=parent, expires_in=seconds, sync=sync)
    if not json_out:
        print(branch.id)
    _report(outcome, json_out, {"branch": {"id": branch.id, "name": branch.name}})


@branch_app.command("delete")
@handled
def branch_delete(
    name: Annotated[str, typer.Argument(help="Branch name")],
    config: ConfigOpt = None,
    sync: SyncOpt = True,
    json_out: JsonOpt = False,
) -> None:
    """Remove what neon-sync wrote for a branch from every target, then delete it in Neon."""
    from sync.lifecycle import delete_branch
    from sync.run import open_run

    with open_run(config) as run:
        outcome = delete_branch(run, name, sync=sync)
    _report(outcome, json_out, {"branch": {"name": name, "deleted": True}})


@app.command()
@handled
def rotate(
    branch: Annotated[str, typer.Argument(help="Branch name")],
    config: ConfigOpt = None,
    role: Annotated[str | None, typer.Option("--role", "-r", help="Default: neon.role")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Reset a role's password in Neon, then update every target that holds it."""
    from sync.lifecycle import rotate as rotate_password
    from sync.run import open_run

    with open_run(config) as run:
        outcome = rotate_password(run, branch, role=role)
    _report(outcome, json_out)


@app.command()
@handled
def watch(
    config: ConfigOpt = None,
    interval: Annotated[str, typer.Option("--interval", help="Time between polls.")] = "30s",
    prune: PruneOpt = False,
) -> None:
    """Keep every target in step with Neon: poll, and sync what changed. Stops on Ctrl-C/SIGTERM."""
    import signal
    import threading

    from sync import output
    from sync.run import open_run
    from sync.watch import watch as watch_loop

    seconds = parse_duration(interval)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with open_run(config) as run:
        watch_loop(run, interval=seconds, prune=prune, stop=stop, log=output.note)


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


def main() -> None:
    import logging
    import sys

    from sync import actions

    # Providers log what they did beyond plain writes; the CLI prints those notes itself.
    logging.getLogger("neon_sync").addHandler(logging.NullHandler())
    if actions.active():
        # stdout carries the JSON document under --json: masks go to stderr then (the runner
        # reads workflow commands on both streams).
        actions.start_masking(sys.stderr if "--json" in sys.argv else sys.stdout)
    app()
