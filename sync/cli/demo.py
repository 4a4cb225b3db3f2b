"""`demo`: the example config end to end against the bundled emulators."""

from __future__ import annotations

from typing import Annotated

import typer

from neon_sync.cli.options import handled


def register(app: typer.Typer) -> None:
    app.command()(demo)


@handled
def demo(
    keep: Annotated[
        str | None,
        typer.Option("--keep", metavar="DIR", help="Write the demo's files into this folder."),
    ] = None,
    postgres: Annotated[
        bool,
        typer.Option(
            "--postgres",
            help="Then start a throwaway local Postgres + PgBouncer (server binaries on PATH) "
            "and `check` every string the demo wrote.",
        ),
    ] = False,
) -> None:
    """Run the example neon-sync.yaml against bundled emulators: no account, no network."""
    from neon_sync.commands.demo import run_demo

    if postgres:
        from neon_sync.check.probe import require_driver

        require_driver()
    if not run_demo(keep, postgres):
        raise typer.Exit(1)
