"""The terminal: errors and notes on stderr, JSON documents and small tables on stdout, the
progress bar. Every string passes through `scrub` on its way out, so a secret that slipped
into a message is still masked. Plans are rendered by render.plan."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from neon_sync.secret import scrub

if TYPE_CHECKING:
    from rich.console import Console

    from neon_sync.commands.inspect import BranchRow


def console(stream: TextIO | None = None) -> Console:
    from rich.console import Console  # rich is slow to import: only when printing tables

    stream = stream or sys.stdout
    # Piped output (CI logs, files) is read by tools and people with wide screens: one change
    # per line, never folded at 80 columns.
    width = None if stream.isatty() else 400
    return Console(file=stream, highlight=False, soft_wrap=False, width=width)


def error(message: str) -> None:
    print(f"neon-sync: error: {scrub(message)}", file=sys.stderr)
    from neon_sync.render import github_actions

    if github_actions.active():
        github_actions.annotate_error(message)


def note(message: str) -> None:
    print(scrub(message), file=sys.stderr)


def print_json(doc: dict[str, Any]) -> None:
    print(scrub(json.dumps(doc, indent=2)))


def print_branches(rows: list[BranchRow], as_json: bool) -> None:
    if as_json:
        print_json({"branches": [asdict(row) for row in rows]})
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("branch", "id", "rules", "targets"):
        table.add_column(column, overflow="fold")
    for row in rows:
        name = row.name + (" (default)" if row.default else "")
        rules = ", ".join(row.rules) or "-"
        table.add_row(Text(name), Text(row.id), Text(rules), Text(", ".join(row.targets) or "-"))
    console().print(table)


def heading(text: str) -> None:
    console().print(f"\n== {scrub(text)}", style="bold", markup=False)


def show_file(path: Path) -> None:
    """A .env file's lines, with every secret masked."""
    console().print(f"# {path.name}", style="bold", markup=False)
    for line in path.read_text(encoding="utf-8").splitlines():
        console().print(scrub(line), markup=False)


def show_rows(title: str, rows: Iterable[tuple[str, ...]]) -> None:
    console().print(f"# {title}", style="bold", markup=False)
    for row in rows:
        console().print("  ".join(scrub(cell) for cell in row), markup=False)


class ProgressBar:
    """A progress bar on stderr for runs that write to many scopes; silent when stderr is not
    a terminal (CI logs) or the run is small."""

    MIN_SCOPES = 10

    def __init__(self) -> None:
        self._bar: Any = None
        self._task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            if total < self.MIN_SCOPES or not sys.stderr.isatty():
                return
            from rich.progress import Progress

            self._bar = Progress(console=console(sys.stderr), transient=True)
            self._task = self._bar.add_task("writing", total=total)
            self._bar.start()
        self._bar.update(self._task, completed=done)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
