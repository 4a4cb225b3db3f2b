"""What the CLI's modules share: the common options and the one error-to-exit-code mapping."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

F = TypeVar("F", bound=Callable[..., Any])

ConfigOpt = Annotated[
    str | None,
    typer.Option(
        "--config",
        "-c",
        metavar="FILE",
        help="Config file (default: $NEON_SYNC_CONFIG, ./neon-sync.yaml)",
    ),
]
BranchOpt = Annotated[
    list[str] | None,
    typer.Option("--branch", "-b", metavar="NAME", help="Only these Neon branches (repeatable)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout.")]
PruneOpt = Annotated[
    bool, typer.Option("--prune", help="Delete what neon-sync wrote for branches that are gone.")
]

ForceOpt = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Lift the prune guard (safety.max_deletes / max_delete_share) and delete values "
        "edited since neon-sync wrote them, for this run.",
    ),
]


def handled(command: F) -> F:
    """Map neon-sync's errors to a one-line message and its exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from neon_sync.errors import NeonSyncError
        from neon_sync.render import console as output

        try:
            return command(*args, **kwargs)
        except NeonSyncError as exc:
            output.error(str(exc))
            if kwargs.get("json_out") and not getattr(exc, "json_printed", False):
                # --json callers parse stdout: they get the failure as a document too. A run
                # that failed (exit 1) keeps the shape of a run's document: no change made.
                doc: dict[str, Any] = {"error": error_document(exc)}
                if exc.exit_code == 1:
                    doc.update(changes=[], errors=[{"message": str(exc)}], applied=False)
                output.print_json(doc)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM before any write (Stopped)
            output.error("interrupted")
            raise typer.Exit(getattr(exc, "exit_code", 130)) from None

    return wrapper  # type: ignore[return-value]


def error_document(exc: Exception) -> dict[str, Any]:
    from neon_sync.errors import ConfigError, NeonSyncError
    from neon_sync.secret import scrub

    where = exc.where if isinstance(exc, ConfigError) else None
    message = str(exc)
    if where and message.startswith(f"{where}: "):
        message = message[len(where) + 2 :]
    return {
        "message": scrub(message),
        "where": where,
        "kind": type(exc).__name__,
        "exit_code": exc.exit_code if isinstance(exc, NeonSyncError) else 1,
    }


def parse_duration(text: str) -> float:
    """'30s', '5m', '2h', '7d' or plain seconds -> seconds."""
    from neon_sync.errors import ConfigError

    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "s")
    try:
        seconds = float(number) * units[unit]
    except ValueError:
        raise ConfigError(f"bad duration {text!r}; write e.g. 30s, 5m, 2h or 7d") from None
    if seconds <= 0:
        raise ConfigError(f"duration {text!r} must be positive")
    return seconds


def stop_if_interrupted(interrupt: Any) -> None:
    """After a run a signal cut short (writes done so far are recorded): say so, exit
    130 (SIGINT) or 143 (SIGTERM)."""
    if interrupt.signum is None:
        return
    from neon_sync.render import console as output

    output.error(
        "interrupted: writes in flight finished, none started after; what was written is "
        "recorded in the state. Run again to finish"
    )
    raise typer.Exit(interrupt.exit_code)


def note_lock_waits() -> None:
    """Say on stderr when a run waits for another one's lock."""
    from neon_sync import lock

    def say(line: str) -> None:
        from neon_sync.render import console

        console.note(line)

    lock.notice = say
