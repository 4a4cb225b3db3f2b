"""Services that cap writes per hour (providers.base.WriteBudget) get to refuse a run that
would exceed the cap, before anything is written: better said up front than failed half-way."""

from __future__ import annotations

from collections import defaultdict

from neon_sync.config.model import Config
from neon_sync.engine.apply import _write as to_write
from neon_sync.engine.desired import Providers
from neon_sync.engine.plan import SCOPE_KEY, Change, pending
from neon_sync.providers.base import Scope, Write, WriteBudget


def over_budget(changes: list[Change], config: Config, made: Providers) -> dict[str, str]:
    """target -> why this run's pending writes there exceed the service's budget."""
    by_target: dict[str, dict[Scope, list[Write]]] = defaultdict(lambda: defaultdict(list))
    for change in pending(changes):
        if change.key != SCOPE_KEY:
            by_target[change.target][change.scope].append(to_write(change))
    out: dict[str, str] = {}
    for target, writes in sorted(by_target.items()):
        provider = made.get(config.targets[target].provider)
        if isinstance(provider, WriteBudget) and (why := provider.write_budget(writes)):
            out[target] = why
    return out
