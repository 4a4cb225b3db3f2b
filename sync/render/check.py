"""`neon-sync check`'s report: one line per variable, or one JSON document. The password is
never in it: results carry only host, kind, timings, versions and scrubbed messages."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from neon_sync.render.console import print_json
from neon_sync.secret import scrub

if TYPE_CHECKING:
    from neon_sync.commands.check import Checked


def report(checked: Sequence[Checked], errors: Mapping[str, str], as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "checks": [c.to_json() for c in checked],
                "errors": [{"target": t, "message": m} for t, m in sorted(errors.items())],
            }
        )
        return
    for c in checked:
        r = c.result
        kind = "pooled" if r.pooled else "direct"
        if r.ok:
            status = f"ok      {kind:6} {r.ms} ms, Postgres {r.server_version}, {r.tls or 'no TLS'}"
        elif r.error is None:
            status = f"skipped {kind:6} {r.cause}"
        else:
            status = f"FAILED  {kind:6} {r.error}"
        print(scrub(f"{c.name:28} {status}  [{c.format}; {r.host}; {c.where}]"))
        if r.error is not None:
            print(scrub(f"{'':28} -> {r.cause}"))
    for target, message in sorted(errors.items()):
        print(scrub(f"{target}: not checked: {message}"), file=sys.stderr)
    if not checked:
        print("no connection strings to check", file=sys.stderr)
