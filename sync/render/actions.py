"""Inside GitHub Actions: mask every secret before anything could print it, report failures
as annotations, and leave a job summary. Outside Actions, all of this is off."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable, Mapping
from typing import TextIO

from neon_sync import secret
from neon_sync.engine.plan import Action, Change

_write_lock = threading.Lock()


def active() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def _escape(text: str) -> str:
    # The runner's own escaping for workflow command data.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def start_masking(stream: TextIO) -> None:
    """`::add-mask::` for every secret known now and revealed later. Registered before the
    first API call, so the mask reaches the runner before any line could hold the value."""

    def mask(value: str) -> None:
        # One write per line, under a lock: reveals happen on several threads, and two
        # interleaved mask lines would leave both values unmasked.
        with _write_lock:
            stream.write(f"::add-mask::{_escape(value)}\n")
            stream.flush()

    secret.on_new_secret(mask)


def annotate_error(message: str) -> None:
    print(f"::error title=neon-sync::{_escape(secret.scrub(message))}", file=sys.stderr)


def _cell(text: str) -> str:
    return secret.scrub(text).replace("|", "\\|").replace("\n", " ")


def write_summary(
    changes: Iterable[Change],
    errors: Mapping[str, str],
    applied: bool,
    problems: Iterable[str] = (),  # failed keys, one line per branch and cause
) -> None:
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    shown = [c for c in changes if c.action is not Action.NOOP]
    lines = [f"### neon-sync {'sync' if applied else 'plan'}", ""]
    if shown:
        lines += ["| action | target | scope | key | branch | value |", "|---|---|---|---|---|---|"]
        for c in shown:
            value = c.masked if c.action is not Action.DELETE else ""
            cells = (c.action.value, c.target, c.scope, c.key, c.branch, value)
            lines.append("| " + " | ".join(_cell(x) for x in cells) + " |")
    else:
        lines.append("Every target is up to date.")
    for target, message in sorted(errors.items()):
        lines.append(f"\n**{_cell(target)}** failed: {_cell(message)}")
    for line in problems:
        lines.append(f"\n**failed**: {_cell(line)}")
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n\n")
