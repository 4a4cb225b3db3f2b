"""Everything neon-sync prints: plan tables, JSON, errors. Every string passes through
`scrub` on its way out, so a secret that slipped into a message is still masked."""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from neon_sync.engine.failures import Failure, grouped
from neon_sync.engine.plan import Action, Change
from neon_sync.secret import scrub

if TYPE_CHECKING:
    from rich.console import Console

    from neon_sync.commands.inspect import BranchRow
    from neon_sync.engine.apply import Outcome, Plan

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


def console(stream: TextIO | None = None) -> Console:
    from rich.console import Console  # rich is slow to import: only when printing tables

    stream = stream or sys.stdout
    # Piped output (CI logs, files) is read by tools and people with wide screens: one change
    # per line, never folded at 80 columns.
    width = None if stream.isatty() else 400
    return Console(file=stream, highlight=False, soft_wrap=False, width=width)


def error(message: str) -> None:
    print(f"neon-sync: error: {scrub(message)}", file=sys.stderr)
    from neon_sync.render import actions

    if actions.active():
        actions.annotate_error(message)


def scrub_text(message: str) -> str:
    return scrub(message)


def note(message: str) -> None:
    print(scrub(message), file=sys.stderr)


def document(
    changes: Iterable[Change],
    errors: Mapping[str, str],
    applied: bool,
    failures: Iterable[Failure] = (),
    undone: Collection[Change] = (),
) -> dict[str, Any]:
    """`errors` holds one entry per target-wide error and per failed key (with its branch
    and key); a change in `undone` was due but not made, and says so (`"failed": true`)."""
    missed = _keys(undone)
    rows = [
        {**change.to_json(), "failed": True} if _key(change) in missed else change.to_json()
        for change in changes
    ]
    found = [{"target": t, "message": m} for t, m in sorted(errors.items())]
    found += [failure.to_json() for failure in failures]
    for entry in found:
        entry["message"] = scrub(entry["message"])
    return {"changes": rows, "errors": found, "applied": applied}


def _key(change: Change) -> tuple[str, str, str]:
    return (change.target, change.scope, change.key)


def _keys(changes: Iterable[Change]) -> set[tuple[str, str, str]]:
    return {_key(change) for change in changes}


def problems(errors: Mapping[str, str], failures: Iterable[Failure]) -> list[str]:
    """Each problem once: target-wide errors, then one line per branch and cause."""
    return [f"target {t}: {m}" for t, m in sorted(errors.items())] + grouped(failures)


def report(
    changes: list[Change],
    errors: Mapping[str, str],
    *,
    applied: bool,
    as_json: bool,
    notes: Iterable[str] = (),
    extra: Mapping[str, Any] | None = None,
    failures: Sequence[Failure] = (),
    undone: Collection[Change] = (),
) -> None:
    """The result of a run: a table, or one JSON document (with `extra` fields), on stdout;
    notes and errors on stderr; and, inside GitHub Actions, the job summary."""
    if as_json:
        print_json({**(extra or {}), **document(changes, errors, applied, failures, undone)})
        for line in problems(errors, failures):
            error(line)
    else:
        print_plan(changes, errors, applied=applied, failures=failures, undone=undone)
    for line in notes:
        note(line)
    from neon_sync.render import actions

    if actions.active():
        actions.write_summary(changes, errors, applied, grouped(failures))


def kept_lines(kept: Iterable[Change]) -> list[str]:
    return [
        f"kept {c.key} in {c.target} ({c.scope}) of deleted branch {c.branch}: edited since "
        "neon-sync wrote it (--force deletes it anyway)"
        for c in kept
    ]


def report_plan(plan: Plan, *, as_json: bool) -> None:
    """`report` of a plan, with the prune guard's verdict said before anything runs."""
    refused = [r.to_json() for r in plan.verdict.refusals]
    report(
        plan.changes,
        plan.errors,
        applied=False,
        as_json=as_json,
        notes=[*plan.remarks, *kept_lines(plan.kept)],
        extra={"refused": refused, "kept": [c.to_json() for c in plan.kept]} if as_json else None,
        failures=plan.failures,
    )
    for refusal in plan.verdict.refusals:
        note(f"sync would refuse target {refusal.target}: {refusal.message}")


def report_outcome(
    outcome: Outcome, *, as_json: bool, extra: Mapping[str, Any] | None = None
) -> None:
    """`report` of an applied run: what was done, and what failed, each said once."""
    kept = outcome.plan.kept
    if as_json and kept:
        extra = {**(extra or {}), "kept": [c.to_json() for c in kept]}
    report(
        outcome.plan.changes,
        outcome.errors,
        applied=True,
        as_json=as_json,
        notes=[*outcome.notes, *outcome.plan.remarks, *kept_lines(kept)],
        extra=extra,
        failures=outcome.failures,
        undone=outcome.undone,
    )


def print_json(doc: dict[str, Any]) -> None:
    print(scrub(json.dumps(doc, indent=2)))


def summary(
    changes: Iterable[Change],
    applied: bool,
    failures: Iterable[Failure] = (),
    undone: Collection[Change] = (),
) -> str:
    """Counts by action of what was done (or is due), and separately how many keys failed."""
    missed = _keys(undone)
    counts = Counter(change.action for change in changes if _key(change) not in missed)
    words = DONE if applied else VERB
    parts = [f"{counts[a]} {words[a]}" for a in Action if counts[a]]
    failed = missed | {(f.target, f.scope or f.branch or "", f.key or "") for f in failures}
    if failed:
        parts.append(f"{len(failed)} failed")
    return ", ".join(parts) if parts else "nothing configured for these branches"


def print_plan(
    changes: list[Change],
    errors: Mapping[str, str],
    *,
    applied: bool,
    show_noop: bool = False,
    failures: Sequence[Failure] = (),
    undone: Collection[Change] = (),
) -> None:
    from rich.table import Table
    from rich.text import Text

    out = console()
    missed = _keys(undone)
    shown = [c for c in changes if show_noop or c.action is not Action.NOOP]
    if shown:
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for column in ("action", "target", "scope", "key", "branch", "value", "why"):
            table.add_column(column, overflow="fold")
        for change in shown:
            label = DONE[change.action] if applied else change.action.value
            style = STYLE[change.action]
            if _key(change) in missed:
                label, style = f"failed ({change.action.value})", "bold red"
            value = scrub(change.masked) if change.action is not Action.DELETE else ""
            cells = (change.target, change.scope, change.key, change.branch, value, change.reason)
            # Text(), not markup: names and values may hold "[" and must print as they are
            table.add_row(Text(label, style=style), *(Text(c) for c in cells))
        out.print(table)
    out.print(summary(changes, applied, failures, undone), markup=False)
    for line in problems(errors, failures):
        error(line)


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
