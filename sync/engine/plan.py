"""The plan: desired state + current state + state records -> a sorted list of Changes.
Pure: no I/O. A plan is data; render/ shows it, engine.apply carries it out."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from neon_sync.engine.failures import Failure
from neon_sync.engine.state import State
from neon_sync.engine.verdict import Verdict
from neon_sync.providers.base import Current, Desired, Scope, Write

# The key of a record or change about a whole scope: "neon-sync created this scope".
SCOPE_KEY = "*"


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NOOP = "noop"
    UNKNOWN = "unknown"  # write-only value with no record of what was written: sync writes it

    @property
    def writes(self) -> bool:
        return self is not Action.NOOP


@dataclass(frozen=True, order=True)
class Change:
    target: str
    scope_id: str  # Scope.id, readable: ".env.alice", "environment:pr-12"
    key: str
    action: Action
    branch: str
    reason: str = ""
    masked: str = field(default="", compare=False)  # what the value looks like, masked
    scope: Scope = field(default_factory=lambda: Scope("", ""), compare=False, repr=False)
    desired: Desired | None = field(default=None, compare=False, repr=False)
    current: Current | None = field(default=None, compare=False, repr=False)

    def write(self) -> Write:
        """What the provider is asked to do for this change."""
        if self.action is Action.DELETE:
            return Write("delete", self.key, None, self.current)
        if self.action is Action.CREATE:
            return Write("create", self.key, self.desired, self.current)
        return Write("update", self.key, self.desired, self.current)

    def to_json(self) -> dict[str, Any]:
        return {
            "branch": self.branch,
            "target": self.target,
            "scope": self.scope_id,
            "key": self.key,
            "action": self.action.value,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Entry:
    """One desired key in one scope."""

    scope: Scope
    desired: Desired


def diff(
    entries: Iterable[Entry],
    current: Mapping[Scope, Mapping[str, Current]],
    state: State,
    *,
    prune: bool = False,
    live_branches: frozenset[str] = frozenset(),
    prune_only: frozenset[str] | None = None,
    force: bool = False,
    kept: list[Change] | None = None,
) -> list[Change]:
    """Every desired key becomes create/update/noop/unknown. With prune, keys neon-sync
    owns (by state record or the provider's own marker) whose branch is not live become
    delete; `prune_only` narrows that to some branches (a `--branch` run). A key whose value
    was edited since neon-sync wrote it is someone's now: it goes to `kept`, not deleted,
    unless `force`."""
    changes: list[Change] = []
    wanted: set[tuple[str, str, str]] = set()
    for entry in entries:
        scope, desired = entry.scope, entry.desired
        wanted.add((scope.target, scope.id, desired.key))
        found = _same_kind(current.get(scope, {}).get(desired.key), desired)
        action, reason = _compare(scope, desired, found, state)
        changes.append(
            Change(
                scope.target,
                scope.id,
                desired.key,
                action,
                desired.branch,
                reason,
                desired.value.masked,
                scope,
                desired,
                found,
            )
        )
    if prune:
        deletes = _prunable(current, state, wanted, live_branches, prune_only)
        edited = [c for c in deletes if _edited(c, state)]
        if not force:
            deletes = [c for c in deletes if c not in edited]
            if kept is not None:
                kept += edited
        changes += deletes + _empty_scopes(current, state, deletes, live_branches, prune_only)
    return sorted(changes)


def _same_kind(found: Current | None, desired: Desired) -> Current | None:
    """Of a name held as both a readable and a write-only value, the one the config wants."""
    if found is not None and found.twin is not None and found.secret != desired.secret:
        return found.twin
    return found


def _compare(
    scope: Scope, desired: Desired, found: Current | None, state: State
) -> tuple[Action, str]:
    if found is None:
        return Action.CREATE, "missing"
    if found.secret is not None and found.secret != desired.secret:
        return Action.UPDATE, "secret/plain kind differs"
    if found.value is not None:
        if found.value == desired.value.reveal():
            return Action.NOOP, ""
        return Action.UPDATE, "value differs"
    record = state.get(scope, desired.key)
    if record is None:
        return Action.UNKNOWN, "write-only, no record of what was written"
    if record.fingerprint != state.fingerprint(scope, desired.key, desired.value.reveal()):
        return Action.UPDATE, "value changed since last write"
    if record.marker is not None and found.updated_at not in (None, record.marker):
        return Action.UPDATE, "changed by someone else (drift)"
    return Action.NOOP, ""


def owners(
    state: State, current: Mapping[Scope, Mapping[str, Current]]
) -> dict[tuple[str, str, str], tuple[Scope, str]]:
    """Every (target, scope id, key) neon-sync owns, by its own record or by the service's
    marker (a Vercel comment), with the Neon branch it was written for."""
    found: dict[tuple[str, str, str], tuple[Scope, str]] = {}
    for scope, key, record in state.owned():
        found[(scope.target, scope.id, key)] = (scope, record.branch)
    for scope, keys in current.items():
        for item in keys.values():
            if item.owner:
                found.setdefault((scope.target, scope.id, item.key), (scope, item.owner))
    return found


def _prunable(
    current: Mapping[Scope, Mapping[str, Current]],
    state: State,
    wanted: set[tuple[str, str, str]],
    live: frozenset[str],
    only: frozenset[str] | None,
) -> list[Change]:
    out = []
    for (target, scope_id, key), (scope, branch) in owners(state, current).items():
        if (target, scope_id, key) in wanted or branch in live:
            continue
        if only is not None and branch not in only:
            continue
        found = current.get(scope, {}).get(key)
        if found is None:
            continue  # already gone; the record is dropped when the plan is applied
        out.append(
            Change(
                target,
                scope_id,
                key,
                Action.DELETE,
                branch,
                "branch no longer exists",
                "",
                scope,
                None,
                found,
            )
        )
    return out


def _edited(change: Change, state: State) -> bool:
    """Does the key still hold what neon-sync wrote? By value where readable, else by the
    service's change marker. Without a record (owned by the provider's own marker) there is
    nothing to compare: it is taken as written."""
    record, found = state.get(change.scope, change.key), change.current
    if record is None or found is None or not record.fingerprint:
        return False
    if found.value is not None:
        return state.fingerprint(change.scope, change.key, found.value) != record.fingerprint
    return None not in (record.marker, found.updated_at) and found.updated_at != record.marker


def _empty_scopes(
    current: Mapping[Scope, Mapping[str, Current]],
    state: State,
    deletes: list[Change],
    live: frozenset[str],
    only: frozenset[str] | None,
) -> list[Change]:
    """Scopes neon-sync created for a branch that is gone, and that the prune empties."""
    out = []
    for scope, key, record in state.owned():
        if key != SCOPE_KEY or record.branch in live or scope not in current:
            continue
        if only is not None and record.branch not in only:
            continue
        going = {c.key for c in deletes if c.scope == scope}
        if set(current[scope]) <= going:
            out.append(
                Change(
                    scope.target,
                    scope.id,
                    SCOPE_KEY,
                    Action.DELETE,
                    record.branch,
                    "created by neon-sync; empty once pruned",
                    "",
                    scope,
                    None,
                    None,
                )
            )
    return out


def pending(changes: Iterable[Change]) -> list[Change]:
    return [change for change in changes if change.action.writes]


@dataclass
class Plan:
    changes: list[Change]
    errors: dict[str, str]  # target -> why it could not be planned
    current: dict[Scope, dict[str, Current]] = field(default_factory=dict)
    live: frozenset[str] = frozenset()
    prune_only: frozenset[str] | None = None
    failures: list[Failure] = field(default_factory=list)  # keys that could not be planned
    verdict: Verdict = field(default_factory=Verdict)  # the prune guard's, checked by apply
    kept: list[Change] = field(default_factory=list)  # prunable, but edited since written
    remarks: list[str] = field(default_factory=list)  # what the user should know about it

    @property
    def pending(self) -> list[Change]:
        return pending(self.changes)

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.failures)


def writes_by_scope(changes: Iterable[Change]) -> dict[Scope, list[Write]]:
    """The provider writes of some changes, per scope; a change to the scope itself (one
    neon-sync created, removed by `remove_scope`) is no write."""
    out: dict[Scope, list[Write]] = {}
    for change in changes:
        if change.key != SCOPE_KEY:
            out.setdefault(change.scope, []).append(change.write())
    return out
