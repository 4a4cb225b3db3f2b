"""Renderers over one plan or its outcome, as octoDNS has PlanLogger/PlanJson/PlanMarkdown:
a `Report` is data, each renderer writes it to a stream in one form. Every string passes
through `scrub` on its way out, so a secret that slipped into a message is still masked."""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol, TextIO

from neon_sync.engine.failures import Failure, grouped
from neon_sync.engine.plan import Action, Change, Plan
from neon_sync.render import console as out
from neon_sync.render import github_actions
from neon_sync.secret import scrub

if TYPE_CHECKING:
    from neon_sync.engine.apply import Outcome

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
    target and per key, and the providers' notes. A change in `undone` was due but did not
    happen: it is shown as failed, never as done."""

    changes: Sequence[Change]
    errors: Mapping[str, str]
    applied: bool
    notes: Sequence[str] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)  # more fields for the JSON form
    failures: Sequence[Failure] = ()
    undone: Collection[Change] = ()

    @classmethod
    def of_plan(cls, plan: Plan, as_json: bool = False) -> Report:
        """A plan, with the prune guard's verdict and the edited keys a prune would keep."""
        notes = [f"sync would refuse target {r.target}: {r.message}" for r in plan.verdict.refusals]
        extra: dict[str, Any] = {}
        if as_json:
            extra = {
                "refused": [r.to_json() for r in plan.verdict.refusals],
                "kept": [c.to_json() for c in plan.kept],
            }
        notes += [*plan.remarks, *kept_lines(plan.kept)]
        return cls(plan.changes, plan.errors, False, notes, extra, plan.failures)

    @classmethod
    def of_outcome(cls, outcome: Outcome, extra: Mapping[str, Any] | None = None) -> Report:
        plan = outcome.plan
        more = {**(extra or {})}
        if plan.kept:
            more["kept"] = [c.to_json() for c in plan.kept]
        notes = [*outcome.notes, *plan.remarks, *kept_lines(plan.kept)]
        return cls(
            plan.changes, outcome.errors, True, notes, more, outcome.failures, outcome.undone
        )

    @cached_property
    def _undone_keys(self) -> frozenset[tuple[str, str, str]]:
        return frozenset(_key(change) for change in self.undone)

    def missed(self, change: Change) -> bool:
        """Whether `change` was due but did not happen."""
        return _key(change) in self._undone_keys

    def problems(self) -> list[str]:
        """Each problem once: target-wide errors, then one line per branch and cause."""
        lines = [f"target {t}: {m}" for t, m in sorted(self.errors.items())]
        return lines + grouped(self.failures)


def kept_lines(kept: Iterable[Change]) -> list[str]:
    return [
        f"kept {c.key} in {c.target} ({c.scope_id}) of deleted branch {c.branch}: edited since "
        "neon-sync wrote it (--force deletes it anyway)"
        for c in kept
    ]


def _key(change: Change) -> tuple[str, str, str]:
    return (change.target, change.scope_id, change.key)


class Renderer(Protocol):
    def render(self, report: Report, stream: TextIO) -> None: ...


def summary(
    changes: Iterable[Change],
    applied: bool,
    failures: Iterable[Failure] = (),
    undone: Collection[Change] = (),
) -> str:
    """Counts by action of what was done (or is due), and separately how many keys failed."""
    missed = {_key(change) for change in undone}
    counts = Counter(change.action for change in changes if _key(change) not in missed)
    words = DONE if applied else VERB
    parts = [f"{counts[a]} {words[a]}" for a in Action if counts[a]]
    failed = missed | {(f.target, f.scope or f.branch or "", f.key or "") for f in failures}
    if failed:
        parts.append(f"{len(failed)} failed")
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
                style = STYLE[change.action]
                if report.missed(change):
                    label, style = f"failed ({change.action.value})", "bold red"
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
                table.add_row(Text(label, style=style), *(Text(c) for c in cells))
            console.print(table)
        line = summary(report.changes, report.applied, report.failures, report.undone)
        console.print(line, markup=False)


class PlanJson:
    """For scripts: one document, `{"changes", "errors", "applied"}` plus any extra fields."""

    def render(self, report: Report, stream: TextIO) -> None:
        print(scrub(json.dumps({**report.extra, **document(report)}, indent=2)), file=stream)


def document(report: Report) -> dict[str, Any]:
    """`errors` holds one entry per target-wide error and per failed key (with its branch
    and key); a change that was due but not made says so (`"failed": true`)."""
    rows = [
        {**change.to_json(), "failed": True} if report.missed(change) else change.to_json()
        for change in report.changes
    ]
    found = [{"target": t, "message": m} for t, m in sorted(report.errors.items())]
    found += [failure.to_json() for failure in report.failures]
    for entry in found:
        entry["message"] = scrub(entry["message"])
    return {"changes": rows, "errors": found, "applied": report.applied}


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
                label = f"failed ({c.action.value})" if report.missed(c) else c.action.value
                cells = (label, c.target, c.scope_id, c.key, c.branch, value)
                lines.append("| " + " | ".join(_cell(x) for x in cells) + " |")
        else:
            lines.append("Every target is up to date.")
        for target, message in sorted(report.errors.items()):
            lines.append(f"\n**{_cell(target)}** failed: {_cell(message)}")
        for problem in grouped(report.failures):
            lines.append(f"\n**failed**: {_cell(problem)}")
        stream.write("\n".join(lines) + "\n\n")


def _cell(text: str) -> str:
    return scrub(text).replace("|", "\\|").replace("\n", " ")


def report(result: Report, *, as_json: bool) -> None:
    """The result of a run: a table or one JSON document on stdout; errors and notes on
    stderr; and, inside GitHub Actions, the job summary."""
    renderer: Renderer = PlanJson() if as_json else PlanTable()
    renderer.render(result, sys.stdout)
    for problem in result.problems():
        out.error(problem)
    for line in result.notes:
        out.note(line)
    summary_path = os.environ.get("GITHUB_STEP_SUMMARY")
    if github_actions.active() and summary_path:
        with open(summary_path, "a", encoding="utf-8") as handle:
            PlanMarkdown().render(result, handle)
