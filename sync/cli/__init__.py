"""The command line: one module per group of commands (sync, inspect, check, branch, watch,
demo).
Each command parses its options and calls one plain function; cli/ is the only place that
turns errors into messages and exit codes:
0 success, 1 runtime failure (API, provider), 2 usage or config error, 3 changes pending
(`plan --exit-code`)."""

from __future__ import annotations

from typing import Annotated

import typer

from neon_sync import __version__
from neon_sync.cli import branch, check, demo, env, init, inspect, sync, watch
from neon_sync.cli.options import note_lock_waits

app = typer.Typer(
    name="neon-sync",
    help="Keep Neon branch connection strings in step with .env files, GitHub and Vercel.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"neon-sync {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Print errors in full (secrets still masked).")
    ] = False,
) -> None:
    from neon_sync.render import console

    console.verbose = verbose


for group in (sync, inspect, check, branch, watch, demo, env, init):
    group.register(app)


def main() -> None:
    import logging
    import sys

    from neon_sync.render import github_actions

    # Providers log what they did beyond plain writes; the CLI prints those notes itself.
    logging.getLogger("neon_sync").addHandler(logging.NullHandler())
    note_lock_waits()
    if github_actions.active():
        # On stderr: stdout is for what scripts capture (a JSON document, `url`'s string),
        # and the runner reads workflow commands on both streams.
        github_actions.start_masking(sys.stderr)
    app()
