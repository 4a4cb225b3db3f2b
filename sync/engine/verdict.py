"""The prune guard's verdict, as data a plan carries (see engine/guard.py for the rules)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Refusal:
    target: str
    deletes: int
    message: str

    def to_json(self) -> dict[str, object]:
        return {"target": self.target, "deletes": self.deletes, "message": self.message}


@dataclass(frozen=True)
class Verdict:
    refusals: tuple[Refusal, ...] = ()

    def refused(self, target: str) -> Refusal | None:
        return next((r for r in self.refusals if r.target == target), None)

    @property
    def safe(self) -> bool:
        return not self.refusals
