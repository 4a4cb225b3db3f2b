"""`watch`: keep every target in step with Neon as a long-running process."""

from __future__ import annotations

from typing import Annotated

import typer

from neon_sync.cli.options import ConfigOpt, ForceOpt, PruneOpt, handled, parse_duration


def register(app: typer.Typer) -> None:
    app.command()(watch)


@handled
def watch(
    config: ConfigOpt = None,
    interval: Annotated[
        str, typer.Option("--interval", metavar="DURATION", help="Time between polls.")
    ] = "30s",
    prune: PruneOpt = False,
    force: ForceOpt = False,
) -> None:
    """Keep every target in step with Neon: poll, and sync what changed. Stops on Ctrl-C/SIGTERM."""
    import signal
    import threading

    from neon_sync.commands.watch import watch as watch_loop
    from neon_sync.engine.run import open_run
    from neon_sync.render import console as output

    seconds = parse_duration(interval)
    stop = threading.Event()
    for name in ("SIGINT", "SIGTERM"):  # getattr: not every platform has both
        signum = getattr(signal, name, None)
        if signum is not None:
            signal.signal(signum, lambda *_: stop.set())
    with open_run(config) as run:
        watch_loop(run, interval=seconds, prune=prune, stop=stop, log=output.note, force=force)
