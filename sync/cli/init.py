"""CLI: `neon-sync init` (a first config) and `neon-sync schema` (its JSON Schema)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from neon_sync.cli.options import handled

if TYPE_CHECKING:
    from neon_sync.commands.init import Found


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("schema")(schema)


def _on_terminal() -> bool:
    """Questions only for a person at a terminal: CI, pipes and scripts are never asked."""
    return sys.stdin.isatty() and sys.stderr.isatty()


def _ask(found: Found) -> Found | None:
    from dataclasses import replace

    from neon_sync.render import console as output

    output.note("Found:" if found.lines() else "Found nothing to go on; writing a starting point.")
    for line in found.lines():
        output.note(f"  {line}")
    if found.project_id is None:
        typed = typer.prompt(
            "Neon project id (empty: ${NEON_PROJECT_ID} from the environment)",
            default="",
            show_default=False,
            err=True,
        ).strip()
        found = replace(found, project_id=typed or None)
    return found if typer.confirm("Write neon-sync.yaml?", default=True, err=True) else None


@handled
def init(
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Never ask; write what was found.")
    ] = False,
) -> None:
    """Write a commented neon-sync.yaml from what this folder holds: neonctl's .neon,
    .vercel/project.json, the git remote, the ORM in use, a .env. Never overwrites one."""
    from pathlib import Path

    from neon_sync.commands.init import detect, write_config
    from neon_sync.render import console as output

    folder = Path.cwd()
    found = detect(folder)
    interactive = not yes and _on_terminal()
    path = write_config(folder, found, _ask if interactive else None)
    if path is None:
        output.note("nothing written")
        return
    if not interactive:
        for line in found.lines():
            output.note(f"found {line}")
    output.note(f"wrote {path.name}; next: `neon-sync validate`, then `neon-sync plan`")


def schema() -> None:
    """Print the JSON Schema of neon-sync.yaml (for editors and CI checks)."""
    from neon_sync.config.schema import SHIPPED

    print(SHIPPED.read_text(encoding="utf-8"), end="")
