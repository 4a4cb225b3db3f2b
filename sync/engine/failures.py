"""Failures that belong to one branch or one key, not to a whole target: a branch without the
compute its rules need, a password Neon would not reveal, a value a target cannot hold, a
write the service refused. The run carries on with every other key and reports these."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Failure:
    target: str
    branch: str | None
    key: str | None
    message: str
    scope: str = ""

    def order(self) -> tuple[str, str, str, str]:
        return (self.target, self.branch or "", self.key or "", self.message)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"target": self.target}
        if self.branch is not None:
            out["branch"] = self.branch
        if self.key is not None:
            out["key"] = self.key
        out["message"] = self.message
        return out


def grouped(failures: Iterable[Failure]) -> list[str]:
    """One line per distinct problem (branch + message), naming the keys it stopped:
    a branch without a compute shows once, not once per key and target."""
    keys: dict[tuple[str | None, str], dict[str, list[str]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for failure in sorted(failures, key=Failure.order):
        where = keys[(failure.branch, failure.message)][failure.target]
        if failure.key is not None and failure.key not in where:
            where.append(failure.key)
    lines = []
    for (branch, message), targets in sorted(keys.items(), key=lambda i: (i[0][0] or "", i[0][1])):
        head = f"branch {branch!r}: " if branch is not None else ""
        stopped = "; ".join(
            f"{target}: {', '.join(names)}" if names else target
            for target, names in sorted(targets.items())
        )
        lines.append(f"{head}{message} (not written: {stopped})")
    return lines
