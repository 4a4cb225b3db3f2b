"""Renderers over one plan or its outcome, as octoDNS has PlanLogger/PlanJson/PlanMarkdown:
a `Report` is data, each renderer writes it to a stream in one form. Every string passes
through `scrub` on its way out, so a secret that slipped into a message is still masked."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from neon_sync.engine.plan import Action, Change
from neon_sync.render import console as out
from neon_sync.render import github_actions
from neon_sync.secret import scrub

STYLE = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.DELETE: "red",
    Action.UNKNOWN: "magenta",
    Action.NOOP: "dim",
}
VERB = {
    Action.CREATE: "to create",
    Action.UPDATE: "to update",
    Action.DELETE: "to delete",
    Action.UNKNOWN: "unknown (will be written)",
    Action.NOOP: "unchanged",
}
DONE = {
    Action.CREATE: "created",
    Action.UPDATE: "updated",
    Action.DELETE: "deleted",
    Action.UNKNOWN: "written",
    Action.NOOP: "unchanged",
}


@dataclass(frozen=True)
class Report:
    """What a plan or a sync came to: the changes (done, if applied), the failures per
    target, and the providers' notes."""

    changes: Sequence[Change]
    errors: Mapping[str, str]
    applied: bool
    notes: Sequence[str] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)  # more fields for the JSON form


class Renderer(Protocol):
    def render(self, report: Report, stream: TextIO) -> None: ...


def summary(changes: Iterable[Change], applied: bool) -> str:
    counts = Counter(change.action for change in changes)
    words = DONE if applied else VERB
    parts = [f"{counts[a]} {words[a]}" for a in Action if counts[a]]
    return ", ".join(parts) if parts else "nothing configured for these branches"


class PlanTable:
    """For people: one row per change (no-ops hidden), then a one-line summary."""

    def __init__(self, show_noop: bool = False) -> None:
        self.show_noop = show_noop

    def render(self, report: Report, stream: TextIO) -> None:
        from rich.table import Table
        from rich.text import Text

        console = out.console(stream)
        shown = [c for c in report.changes if self.show_noop or c.action is not Action.NOOP]
        if shown:
            table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
            for column in ("action", "target", "scope", "key", "branch", "value", "why"):
                table.add_column(column, overflow="fold")
            for change in shown:
                label = DONE[change.action] if report.applied else change.action.value
                value = scrub(change.masked) if change.action is not Action.DELETE else ""
                cells = (
                    change.target,
                    change.scope_id,
                    change.key,
                    change.branch,
                    value,
                    change.reason,
                )
                # Text(), not markup: names and values may hold "[" and must print as they are
                table.add_row(Text(label, style=STYLE[change.action]), *(Text(c) for c in cells))
            console.print(table)
        console.print(summary(report.changes, report.applied), markup=False)


class PlanJson:
    """For scripts: one document, `{"changes", "errors", "applied"}` plus any extra fields."""

    def render(self, report: Report, stream: TextIO) -> None:
        print(scrub(json.dumps({**report.extra, **document(report)}, indent=2)), file=stream)


def document(report: Report) -> dict[str, Any]:
    return {
        "changes": [change.to_json() for change in report.changes],
        "errors": [{"target": t, "message": scrub(m)} for t, m in sorted(report.errors.items())],
        "applied": report.applied,
    }


class PlanMarkdown:
    """For a GitHub Actions job summary: a table of what changed, then each failure."""

    def render(self, report: Report, stream: TextIO) -> None:
        shown = [c for c in report.changes if c.action is not Action.NOOP]
        lines = [f"### neon-sync {'sync' if report.applied else 'plan'}", ""]
        if shown:
            lines += [
                "| action | target | scope | key | branch | value |",
                "|---|---|---|---|---|---|",
            ]
            for c in shown:
                value = c.masked if c.action is not Action.DELETE else ""
                cells = (c.action.value, c.target, c.scope_id, c.key, c.branch, value)
                lines.append("| " + " | ".join(_cell(x) for x in cells) + " |")
        else:
            lines.append("Every target is up to date.")
        for target, message in sorted(report.errors.items()):
            lines.append(f"\n**{_cell(target)}** failed: {_cell(message)}")
        stream.write("\n".join(lines) + "\n\n")


def _cell(text: str) -> str:
    return scrub(text).replace("|", "\\|").replace("\n", " ")


def report(result: Report, *, as_json: bool) -> None:
    """The result of a run: a table or one JSON document on stdout; errors and notes on
    stderr; and, inside GitHub Actions, the job summary."""
    renderer: Renderer = PlanJson() if as_json else PlanTable()
    renderer.render(result, sys.stdout)
    for target, message in sorted(result.errors.items()):
        out.error(f"target {target}: {message}")
    for line in result.notes:
        out.note(line)
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
    if github_actions.active() and summary_path:
        with open(summary_path, "a", encoding="utf-8") as handle:
            PlanMarkdown().render(result, handle)
