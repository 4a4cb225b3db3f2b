"""The one way a value outside a closed set (a config enum, a provider option, a CLI flag)
is reported: the value, the choices, and the closest choice when it looks like a typo. The
sets of connection options themselves live in neon_sync.neon.formats."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from neon_sync.errors import ConfigError


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Levenshtein distance, stopping early once every path exceeds `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        row = [i]
        for j, char_b in enumerate(b, 1):
            row.append(min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        if min(row) > limit:
            return limit + 1
        previous = row
    return previous[-1]


def closest(value: str, choices: Sequence[str], within: int = 2) -> str | None:
    """The choice nearest to `value` (ignoring case) if at most `within` edits away."""
    best: tuple[int, str] | None = None
    for choice in choices:
        distance = edit_distance(value.lower(), choice.lower(), within)
        if distance <= within and (best is None or distance < best[0]):
            best = (distance, choice)
    return best[1] if best else None


def not_one_of(value: Any, choices: Sequence[str], what: str) -> str:
    """`what: 'poold' is not one of pooled, direct (did you mean 'pooled'?)`"""
    near = closest(value, choices, within=3) if isinstance(value, str) else None
    hint = f" (did you mean {near!r}?)" if near else ""
    return f"{what}: {value!r} is not one of {', '.join(choices)}{hint}"


def check_choice(value: Any, choices: Sequence[str], what: str, where: str | None) -> None:
    if value not in choices:
        raise ConfigError(not_one_of(value, choices, what), where)
