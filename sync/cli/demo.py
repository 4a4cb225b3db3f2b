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
        str | None, typer.Option("--keep", help="Write the demo's files into this folder.")
    ] = None,
) -> None:
    """Run the example neon-sync.yaml against bundled emulators: no account, no network."""
    from neon_sync.commands.demo import run_demo

    run_demo(keep)
