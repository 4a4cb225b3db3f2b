"""GitHub allows 500 content-creating requests an hour. A run that needs more would stall
for an hour and then fail part-way; `plan` and `sync` say so before writing anything."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

from neon_sync.providers.base import Scope, Write
from neon_sync.providers.github.api import HOURLY_WRITES, MINUTE_WRITES
from neon_sync.providers.github.names import is_secret


def content_requests(
    writes: Mapping[Scope, Sequence[Write]], environment_missing: Callable[[Scope], bool]
) -> int:
    """Writes these changes take: one PUT, POST, PATCH or DELETE per key (two when a key
    changes kind: write the new, delete the old), plus one PUT per environment to create."""
    count = 0
    for scope, todo in writes.items():
        if environment_missing(scope) and any(w.desired for w in todo):
            count += 1
        for write in todo:
            count += 1
            current, desired = write.current, write.desired
            if desired and current:  # as the provider's _write decides it
                count += is_secret(current) != desired.secret
    return count


def verdict(target: str, count: int) -> str | None:
    if count <= HOURLY_WRITES:
        return None
    hours = math.ceil(count / HOURLY_WRITES) - 1
    return (
        f"target {target!r}: this run needs {count} content-creating GitHub requests; GitHub "
        f"allows {HOURLY_WRITES} an hour ({MINUTE_WRITES} a minute): the run would stall for "
        f"{hours} hour{'s' if hours > 1 else ''} or more and fail part-way, so neon-sync does "
        "not start it; sync fewer branches per run (--branch NAME)"
    )
