"""`neon-sync watch`: poll Neon and sync only what changed.

Neon has no webhooks for branch events. Each poll lists the branches (following cursors) and
the project's endpoints (one request) and compares them with the previous poll: a branch
created, renamed or with a new `updated_at`, or whose computes were added, removed or
replaced, is synced; a branch gone is pruned (with --prune). When nothing changed the poll
makes those listing calls and nothing else: no reveal, no target read, no write.

Password resets leave no trace in those listings: Neon moves the role's `updated_at`, not the
branch's (so does the emulator; Neon's docs promise neither). Two cheaper-than-everything
checks catch them:
- every `roles_every` polls (default: 2 minutes' worth) the roles of each branch a rule
  matches are listed, one GET per branch and no reveal; a branch whose synced roles have a
  new `updated_at` is synced;
- every `full_every` polls (default: 10 minutes' worth) a full sync runs: a safety net for
  changes that leave no trace at all (ALTER ROLE ... PASSWORD in SQL, a target edited by hand).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from neon_sync.config.model import Config, SyncItem
from neon_sync.engine.apply import Outcome
from neon_sync.engine.failures import grouped
from neon_sync.engine.run import Run
from neon_sync.errors import ConfigError, NeonSyncError
from neon_sync.neon.client import Branch, NeonClient
from neon_sync.render.plan import DONE
from neon_sync.secret import scrub

FULL_EVERY_SECONDS = 600.0
ROLES_EVERY_SECONDS = 120.0
MAX_BACKOFF = 300.0  # seconds: the longest wait after failing polls
ROLE_LISTINGS_IN_FLIGHT = 4

EndpointKey = tuple[str, str, str]  # (branch_id, host, type)
RoleMark = tuple[tuple[str, str | None], ...]  # the synced roles' (name, updated_at)


@dataclass(frozen=True)
class Snapshot:
    """What one poll saw: branches by id, endpoints by id."""

    branches: Mapping[str, Branch]
    endpoints: Mapping[str, EndpointKey]

    @classmethod
    def take(cls, neon: NeonClient) -> Snapshot:
        branches = {branch.id: branch for branch in neon.branches()}
        endpoints = {e.id: (e.branch_id, e.host, e.type) for e in neon.endpoints()}
        return cls(branches, endpoints)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(branch.name for branch in self.branches.values())


@dataclass(frozen=True)
class Delta:
    touched: frozenset[str]  # live branch names to sync
    gone: frozenset[str]  # names no branch has any more
    events: tuple[str, ...]  # what happened in Neon, for the log


def compare(old: Snapshot, new: Snapshot) -> Delta:
    """The branches to sync between two polls. A rename is a delete plus a create."""
    touched: set[str] = set()
    gone: set[str] = set()
    events: list[str] = []
    for branch_id, branch in new.branches.items():
        before = old.branches.get(branch_id)
        if before is None:
            touched.add(branch.name)
            events.append(f"branch {branch.name} created in Neon")
        elif before.name != branch.name:
            touched.add(branch.name)
            gone.add(before.name)
            events.append(f"branch {before.name} renamed to {branch.name} in Neon")
        elif before.updated_at != branch.updated_at:
            touched.add(branch.name)  # no event: Neon may move updated_at for many reasons
    for branch_id, branch in old.branches.items():
        if branch_id not in new.branches:
            gone.add(branch.name)
            events.append(f"branch {branch.name} deleted in Neon")
    for endpoint_id in sorted(old.endpoints.keys() | new.endpoints.keys()):
        was, now = old.endpoints.get(endpoint_id), new.endpoints.get(endpoint_id)
        if was == now:
            continue
        verb = "added to" if was is None else "removed from" if now is None else "changed on"
        for branch_id in sorted({key[0] for key in (was, now) if key is not None}):
            if owner := new.branches.get(branch_id):
                touched.add(owner.name)
                if branch_id in old.branches:  # a new branch's computes go without saying
                    events.append(f"compute {endpoint_id} {verb} branch {owner.name}")
    # A name deleted and created again in one interval is live: sync it, prune nothing.
    return Delta(frozenset(touched), frozenset(gone - new.names), tuple(events))


def _items(config: Config, branch: Branch) -> Iterator[SyncItem]:
    for rule, _captures in config.matching(branch.name, branch.default):
        yield from rule.items


def roles_used(config: Config, branch: Branch) -> frozenset[str]:
    """The roles whose passwords the rules matching `branch` write (none: not synced)."""
    return frozenset(
        var.role or config.neon.role for item in _items(config, branch) for var in item.vars
    )


class Watcher:
    """The state carried from poll to poll. `poll()` returns True when it found nothing."""

    def __init__(
        self,
        run: Run,
        *,
        prune: bool,
        log: Callable[[str], None],
        full_every: int,
        roles_every: int,
        force: bool = False,
    ) -> None:
        self.run, self.prune, self.log, self.force = run, prune, log, force
        self.full_every, self.roles_every = full_every, roles_every
        self.snapshot: Snapshot | None = None
        self.dirty: set[str] = set()  # branch names to sync (or prune) at the next poll
        self.full_due = True  # the first poll, or a full sync that raised, syncs everything
        self.since_full = self.since_roles = 0
        self.marks: dict[str, RoleMark] = {}  # branch id -> its roles at the last sync
        self.failing: dict[str, str] = {}  # target -> the error last logged for it
        self.branch_problems: set[str] = set()  # lines about one branch's keys, last logged

    def poll(self) -> bool:
        neon = self.run.neon
        neon.invalidate()
        new = Snapshot.take(neon)
        old, self.snapshot = self.snapshot, new
        # From here on, what the poll found stays in `dirty` until a sync succeeds.
        quiet = True
        if old is not None:
            delta = compare(old, new)
            for line in delta.events:
                self.log(line)
            if delta.gone and not self.prune:
                kept = ", ".join(sorted(delta.gone))
                self.log(f"values written for {kept} stay (watch --prune removes them)")
            self.dirty |= delta.touched | (delta.gone if self.prune else set())
            quiet = not (delta.events or delta.touched or delta.gone)
        self.since_full += 1
        self.since_roles += 1
        self.full_due = full = self.full_due or self.since_full >= self.full_every
        if full or self.since_roles >= self.roles_every:
            self._check_roles(new.branches.values())
            self.since_roles = 0
        else:  # a baseline for the branches about to be synced
            self._check_roles(b for b in new.branches.values() if b.name in self.dirty)
        self.marks = {k: v for k, v in self.marks.items() if k in new.branches}
        if not self.prune:  # changed, then deleted before a sync got through: nothing to do
            self.dirty &= new.names
        if not full and not self.dirty:
            return quiet
        names = frozenset(self.dirty)
        outcome = self.run.sync(() if full else sorted(names), prune=self.prune, force=self.force)
        self._report(outcome)
        self.dirty = self._still_failing(outcome, new, None if full else names)
        if full:
            self.full_due, self.since_full = False, 0
        return False

    def _check_roles(self, branches: Iterable[Branch]) -> None:
        """List the roles of each branch the rules sync (before its sync reveals anything, so
        a reset after that shows at the next check); a moved `updated_at` marks it dirty."""
        used = [
            (branch, roles) for branch in branches if (roles := roles_used(self.run.config, branch))
        ]
        if not used:
            return
        with ThreadPoolExecutor(min(ROLE_LISTINGS_IN_FLIGHT, len(used)), "neon-roles") as pool:
            listed = list(pool.map(lambda pair: self.run.neon.roles(pair[0].id), used))
        for (branch, roles), found in zip(used, listed, strict=True):
            stamps = {role.name: role.updated_at for role in found}
            mark = tuple(sorted((name, stamps.get(name)) for name in roles))
            before = self.marks.get(branch.id)
            if before is not None and before != mark and branch.name not in self.dirty:
                self.dirty.add(branch.name)
                self.log(f"a role of branch {branch.name} changed in Neon (password reset?)")
            self.marks[branch.id] = mark

    def _report(self, outcome: Outcome) -> None:
        for change in outcome.done:
            self.log(
                f"{DONE[change.action]} {change.key} in {change.target} ({change.scope_id}) "
                f"for {change.branch}"
            )
        for note in outcome.notes:
            self.log(note)
        failing = _failing_targets(outcome)
        for target, message in sorted(failing.items()):
            if self.failing.get(target) != message:  # once, not at every poll it still fails
                self.log(f"target {target} failed: {message}; retrying at the next poll")
        for target in sorted(self.failing.keys() - failing.keys()):
            self.log(f"target {target} works again")
        self.failing = failing
        # A branch's own problem (no compute, a role Neon will not reveal) is retried at the
        # next full pass, not every poll: it rarely fixes itself within seconds.
        lines = set(grouped(f for f in outcome.failures if not f.scope))
        for line in sorted(lines - self.branch_problems):
            self.log(f"{line}; retrying at the next full pass")
        self.branch_problems = lines

    def _still_failing(
        self, outcome: Outcome, seen: Snapshot, synced: frozenset[str] | None
    ) -> set[str]:
        """The branches with something in a target that failed: synced again next poll."""
        bad = _failing_targets(outcome).keys()
        if not bad:
            return set()

        def wanted(name: str) -> bool:
            return synced is None or name in synced

        out = {change.branch for change in outcome.plan.changes if change.target in bad}
        for branch in seen.branches.values():
            if wanted(branch.name) and any(
                i.target in bad for i in _items(self.run.config, branch)
            ):
                out.add(branch.name)
        if self.prune:  # a gone branch whose values sit in a failing target
            out |= {
                record.branch
                for scope, _key, record in self.run.state.owned()
                if scope.target in bad and record.branch not in seen.names and wanted(record.branch)
            }
        return out


def _failing_targets(outcome: Outcome) -> dict[str, str]:
    """Targets that failed as a whole or refused a write: retried at the next poll."""
    out = {f.target: f.message for f in outcome.failures if f.scope}
    return {**out, **outcome.errors}


def every(seconds: float, interval: float) -> int:
    """How many polls of `interval` seconds make `seconds` (at least one)."""
    return max(1, math.ceil(seconds / interval))


def backoff(interval: float, failures: int) -> float:
    """The wait after `failures` polls in a row failed: doubling, capped, never below interval."""
    return max(interval, min(interval * 2.0**failures, MAX_BACKOFF))


def watch(
    run: Run,
    *,
    interval: float,
    prune: bool,
    stop: threading.Event,
    log: Callable[[str], None],
    heartbeat_every: int = 20,
    max_polls: int | None = None,
    wait: Callable[[float], bool] | None = None,
    full_every: int | None = None,
    roles_every: int | None = None,
    force: bool = False,
) -> int:
    """Poll Neon every `interval` seconds and sync what changed, until `stop` is set (or
    `max_polls` polls were made); returns the number of polls. `wait(seconds)` returns True
    when stopped (default: stop.wait), so a signal ends the wait at once; a sync in flight is
    finished first. A failing poll is logged and retried with backoff; a ConfigError raises.
    `full_every` / `roles_every` (polls) default to 10 and 2 minutes' worth."""
    pause = wait or stop.wait
    watcher = Watcher(
        run,
        prune=prune,
        log=lambda line: log(scrub(line)),
        full_every=full_every or every(FULL_EVERY_SECONDS, interval),
        roles_every=roles_every or every(ROLES_EVERY_SECONDS, interval),
        force=force,
    )
    watcher.log(
        f"watching Neon project {run.neon.project_id} every {interval:g}s"
        + (" (pruning deleted branches)" if prune else "")
    )
    polls = failures = quiet_polls = 0
    while not stop.is_set() and (max_polls is None or polls < max_polls):
        polls += 1
        delay = interval
        try:
            quiet = watcher.poll()
        except ConfigError:
            raise
        except NeonSyncError as exc:
            failures += 1
            delay = backoff(interval, failures)
            watcher.log(f"poll failed: {exc}; retrying in {delay:g}s")
        else:
            failures = 0
            quiet_polls = quiet_polls + 1 if quiet else 0
            if heartbeat_every > 0 and quiet_polls >= heartbeat_every:
                count = len(watcher.snapshot.branches) if watcher.snapshot else 0
                watcher.log(f"no change in Neon for {quiet_polls} polls ({count} branches)")
                quiet_polls = 0
        if stop.is_set() or (max_polls is not None and polls >= max_polls) or pause(delay):
            break
    watcher.log(f"stopped after {polls} polls")
    return polls
