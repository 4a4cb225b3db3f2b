"""The `neon-sync` entry point. `--version` and the top-level `--help` are answered before
typer (and click, which it vendors) is imported: that import alone costs several times a bare
interpreter's start-up, and scripts call `neon-sync --version` to probe for the tool.
Everything else goes to the typer app in neon_sync.cli."""

from __future__ import annotations

import os
import sys

# Click wraps help to the terminal's width, capped at 80 columns: the cached text is the
# 80-column rendering, so narrower terminals go through typer.
HELP_WIDTH = 80


def _columns() -> int:
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ else 80
    except (AttributeError, ValueError, OSError):
        return 80  # not a terminal: click falls back to 80 columns too


def main() -> int | None:
    args = sys.argv[1:]
    if args == ["--version"]:
        from neon_sync import __version__

        print(f"neon-sync {__version__}")
        return 0
    if args in (["--help"], ["-h"]) and _columns() >= HELP_WIDTH:
        from neon_sync.help_text import HELP

        sys.stdout.write(HELP)
        return 0
    from neon_sync.cli import main as full

    full()
    return None
