"""Inside GitHub Actions: mask every secret before anything could print it and report
failures as annotations (the job summary is render.plan.PlanMarkdown). Outside Actions, all
of this is off."""

from __future__ import annotations

import os
import sys
import threading
from typing import TextIO

from neon_sync import secret

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
