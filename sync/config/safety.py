"""`safety:` in the config: how much one run may delete in a target before it stops and asks
for `--force` (octoDNS's `Plan.raise_if_unsafe`, Terraform's destroy count)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from neon_sync.config.source import LDict, check_keys
from neon_sync.errors import ConfigError

# Below this many owned keys, shares say little: deleting 2 of 3 is a normal prune.
MIN_OWNED_FOR_SHARE = 5


@dataclass(frozen=True)
class Safety:
    max_deletes: int = 25
    max_delete_share: float = 0.5


def parse_safety(raw: Any, where: str) -> Safety:
    if raw is None:
        return Safety()
    if not isinstance(raw, LDict):
        raise ConfigError("`safety:` must be a mapping (max_deletes, max_delete_share)", where)
    check_keys(raw, {"max_deletes", "max_delete_share"}, "safety")
    count = raw.get("max_deletes", Safety.max_deletes)
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ConfigError(
            f"safety.max_deletes: {count!r} is not a whole number >= 0", raw.at("max_deletes")
        )
    share = raw.get("max_delete_share", Safety.max_delete_share)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
        raise ConfigError(
            f"safety.max_delete_share: {share!r} is not a number from 0 to 1",
            raw.at("max_delete_share"),
        )
    return Safety(count, float(share))
