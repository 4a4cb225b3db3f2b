"""Services that cap writes per hour (providers.base.WriteBudget) get to refuse a run that
would exceed the cap, before anything is written: better said up front than failed half-way."""

from __future__ import annotations

from collections import defaultdict

from neon_sync.config.model import Config
from neon_sync.engine.desired import Providers
from neon_sync.engine.plan import Change, pending, writes_by_scope
from neon_sync.providers.base import WriteBudget


def over_budget(changes: list[Change], config: Config, made: Providers) -> dict[str, str]:
    """target -> why this run's pending writes there exceed the service's budget."""
    by_target: dict[str, list[Change]] = defaultdict(list)
    for change in pending(changes):
        by_target[change.target].append(change)
    out: dict[str, str] = {}
    for target, target_changes in sorted(by_target.items()):
        writes = writes_by_scope(target_changes)
        provider = made.get(config.targets[target].provider)
        if isinstance(provider, WriteBudget) and (why := provider.write_budget(writes)):
            out[target] = why
    return out
