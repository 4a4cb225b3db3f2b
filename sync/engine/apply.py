"""The public workflows: plan (config + Neon + targets -> changes) and apply (changes ->
writes + state). The CLI parses options and calls these; tests call them directly."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

from neon_sync.config.model import Config
from neon_sync.engine import guard
from neon_sync.engine.batched import apply_batched
from neon_sync.engine.desired import Providers, resolve
from neon_sync.engine.failures import Failure
from neon_sync.engine.plan import SCOPE_KEY, Action, Change, Plan, diff, writes_by_scope
from neon_sync.engine.prefetch import Prefetch
from neon_sync.engine.state import Record, State
from neon_sync.errors import ConfigError, NeonSyncError, ProviderError
from neon_sync.neon.client import Branch, NeonClient
from neon_sync.neon.resolve import not_found
from neon_sync.providers.base import AppliesScopes, Current, Desired, Provider, Scope

MAX_TARGETS_IN_FLIGHT = 4
T = TypeVar("T")


@dataclass
class Outcome:
    plan: Plan
    applied: bool
    errors: dict[str, str]  # target -> failure (planning or applying)
    done: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what providers did beyond plain writes
    failures: list[Failure] = field(default_factory=list)  # keys planned or written in vain

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.failures)

    @property
    def undone(self) -> list[Change]:
        """Pending changes that were not carried out: never reported as done."""
        made = {(c.target, c.scope_id, c.key) for c in self.done}
        return [c for c in self.plan.pending if (c.target, c.scope_id, c.key) not in made]


def select_branches(
    all_branches: Sequence[Branch], names: Sequence[str], prune: bool, project_id: str = ""
) -> list[Branch]:
    if not names:
        return list(all_branches)
    by_name = {branch.name: branch for branch in all_branches}
    missing = [name for name in names if name not in by_name]
    if missing and not prune:
        error = not_found(missing[0], all_branches, project_id)
        raise ConfigError(f"{error}; or add --prune to clean up after it") from None
    return [by_name[name] for name in names if name in by_name]


def make_plan(
    config: Config,
    neon: NeonClient,
    made: Providers,
    state: State,
    *,
    branches: Sequence[str] = (),
    prune: bool = False,
    retiring: frozenset[str] = frozenset(),
    force: bool = False,
) -> Plan:
    """What sync would do. Reads Neon and every target involved; writes nothing.
    `retiring` branches are treated as already deleted (`branch delete` prunes them first).
    With prune, the plan carries the guard's verdict on its deletes (`force` lifts limits)."""
    listed = neon.branches()
    all_branches = [b for b in listed if b.name not in retiring]
    live = frozenset(branch.name for branch in all_branches)
    selected = select_branches(all_branches, branches, prune, neon.project_id)
    prune_only = frozenset(branches) if branches else None
    scopes: dict[str, set[Scope]] = defaultdict(set)
    if prune:
        for scope, _key, record in state.owned():
            wanted = prune_only is None or record.branch in prune_only
            if scope.target in config.targets and record.branch not in live and wanted:
                scopes[scope.target].add(scope)

    def read_scopes(target: str, found: Sequence[Scope]) -> dict[Scope, dict[str, Current]]:
        provider = made.get(config.targets[target].provider)
        return {s: dict(keys) for s, keys in provider.read(found).items() if s.target == target}

    # Targets are read while Neon reveals passwords: the scopes are known before those are.
    early = Prefetch(read_scopes, scopes, MAX_TARGETS_IN_FLIGHT)
    try:
        resolution = resolve(config, neon, selected, made, early=early.start)
        errors = dict(resolution.errors)
        entries = [entry for entry in resolution.entries if entry.scope.target not in errors]
        for entry in entries:
            scopes[entry.scope.target].add(entry.scope)
        current: dict[Scope, dict[str, Current]] = {}

        def read(target: str) -> dict[Scope, dict[str, Current]]:
            found = sorted(scopes[target])
            ready = early.take(target, found)
            if ready is None:
                return read_scopes(target, found)
            return {scope: dict(keys) for scope, keys in ready.items()}

        for _target, result in _each(sorted(scopes), read, errors):
            current.update(result)
    finally:
        early.close()
    entries = [entry for entry in entries if entry.scope.target not in errors]
    kept: list[Change] = []
    changes = diff(
        entries,
        current,
        state,
        prune=prune,
        live_branches=live,
        prune_only=prune_only,
        force=force,
        kept=kept,
    )
    changes = [change for change in changes if change.target not in errors]
    plan = Plan(changes, errors, current, live, prune_only, list(resolution.failures))
    plan.kept = [change for change in kept if change.target not in errors]
    if prune and state.others():
        plan.remarks.append(
            f"the state holds keys written for Neon project(s) {', '.join(sorted(state.others()))};"
            f" this config is for {config.neon.project_id}: prune leaves those keys alone"
        )
    if prune:
        owned = guard.owned_counts(state, current)
        plan.verdict = guard.judge(
            changes,
            owned,
            config.safety,
            branches=listed,
            project_id=config.neon.project_id,
            force=force,
        )
    return plan


Progress = Callable[[int, int], None]  # (scopes done, scopes in all)
Written = list[tuple[Change, str | None]]  # each change made, with its new change marker


def apply_plan(
    plan: Plan,
    config: Config,
    made: Providers,
    state: State,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> Outcome:
    """Carry out the pending changes, each target in its own thread, scopes of a target in
    order. A failing target does not stop the others. Records what was written in `state`.
    Once `stop` is set no scope starts; what was written until then is recorded."""
    by_target: dict[str, list[Change]] = defaultdict(list)
    errors = dict(plan.errors)
    for refusal in plan.verdict.refusals:
        errors[refusal.target] = refusal.message
    for change in plan.pending:
        if change.action is Action.DELETE and plan.verdict.refused(change.target):
            continue  # the guard said no: not one delete there
        by_target[change.target].append(change)
    tick = _Ticker(progress, total=sum(len({c.scope for c in v}) for v in by_target.values()))
    results: Written = []
    failures = list(plan.failures)

    def run(target: str) -> tuple[Written, list[Failure]]:
        provider = made.get(config.targets[target].provider)
        return _apply_target(provider, by_target[target], tick, stop)

    for _target, (written, failed) in _each(sorted(by_target), run, errors):
        results += written
        failures += failed
    for change, marker in results:
        _record(state, change, marker)
    _record_noops(plan, state)
    done = sorted(c for c, _ in results)
    return Outcome(plan, True, errors, done, made.take_notes(), sorted(failures, key=Failure.order))


class _Ticker:
    def __init__(self, progress: Progress | None, total: int) -> None:
        self._progress, self._total, self._done = progress, total, 0
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            self._done += 1
            if self._progress is not None:
                self._progress(self._done, self._total)


def _apply_target(
    provider: Provider,
    changes: list[Change],
    tick: Callable[[], None],
    stop: threading.Event | None = None,
) -> tuple[Written, list[Failure]]:
    written: Written = []
    failures: list[Failure] = []
    by_scope: dict[Scope, list[Change]] = defaultdict(list)
    for change in changes:
        by_scope[change.scope].append(change)
    batched: Mapping[Scope, Mapping[str, str | None]] | None = None
    batch_problem: str | None = None
    if isinstance(provider, AppliesScopes):  # one call for all scopes: the API batches them
        batched, problems = apply_batched(provider, by_scope)
        batch_problem = "; ".join(problems) or None
    for scope, scope_changes in sorted(by_scope.items()):
        stopped = stop is not None and stop.is_set()
        if stopped and batched is None:
            break  # interrupted: the rest stays as it was, and shows as not done
        writes = writes_by_scope(scope_changes).get(scope, [])
        markers: Mapping[str, str | None] = {}
        problem = None
        try:
            if writes and batched is not None:  # written already: record what was
                markers = batched.get(scope, {})
                if batch_problem is not None and any(w.key not in markers for w in writes):
                    problem = batch_problem
            elif writes:
                markers = provider.apply(scope, writes)
            removal = any(c.key == SCOPE_KEY for c in scope_changes) and not stopped
            if removal and provider.remove_scope(scope):
                markers = {**markers, SCOPE_KEY: None}
        except ProviderError as exc:
            markers, problem = exc.done, str(exc)
        except NeonSyncError as exc:
            problem = str(exc)
        written += [(c, markers[c.key]) for c in scope_changes if c.key in markers]
        if problem is not None:  # every key of the scope the service did not take
            failures += [
                Failure(
                    c.target, c.branch, None if c.key == SCOPE_KEY else c.key, problem, c.scope_id
                )
                for c in scope_changes
                if c.key not in markers
            ]
        tick()
    created = provider.created_scopes()
    for scope, scope_changes in by_scope.items():
        if scope.id in created:  # remember it, so a prune can remove it with its branch
            written.append((_created(scope, scope_changes[0].branch), None))
    return written, failures


def _record(state: State, change: Change, marker: str | None) -> None:
    options = dict(change.scope.options)
    if change.action is Action.DELETE:
        state.drop(change.scope, change.key)
    elif change.key == SCOPE_KEY:
        state.put(change.scope, SCOPE_KEY, Record("", change.branch, None, options))
    elif change.desired is not None:
        _own(state, change.scope, change.desired, marker)


def _record_noops(plan: Plan, state: State) -> None:
    """Keys that already held the right value are still neon-sync's: record them so a later
    --prune can remove them; drop records of pruned keys that are already gone."""
    for change in plan.changes:
        if (
            change.action is Action.NOOP
            and change.desired
            and not state.get(change.scope, change.key)
        ):
            marker = change.current.updated_at if change.current else None
            _own(state, change.scope, change.desired, marker)
    if plan.prune_only is None and not plan.live:
        return
    for scope, key, record in list(state.owned()):
        gone_branch = record.branch not in plan.live
        wanted = plan.prune_only is None or record.branch in plan.prune_only
        absent = scope in plan.current and key not in plan.current[scope]
        if gone_branch and wanted and absent and key != SCOPE_KEY:
            state.drop(scope, key)


def _own(state: State, scope: Scope, desired: Desired, marker: str | None) -> None:
    """Record that neon-sync's value of `desired` is what the scope holds now."""
    fingerprint = state.fingerprint(scope, desired.key, desired.value.reveal())
    state.put(scope, desired.key, Record(fingerprint, desired.branch, marker, dict(scope.options)))


def _created(scope: Scope, branch: str) -> Change:
    """A scope the provider created while writing (a GitHub environment), as a change."""
    return Change(
        scope.target, scope.id, SCOPE_KEY, Action.CREATE, branch, "scope created", "", scope
    )


def _each(
    targets: Iterable[str],
    work: Callable[[str], T],
    errors: dict[str, str],
) -> list[tuple[str, T]]:
    """Run work(target) for each target with bounded concurrency; a failure goes to errors."""
    names = [target for target in targets if target not in errors]
    out: list[tuple[str, T]] = []
    with ThreadPoolExecutor(max_workers=MAX_TARGETS_IN_FLIGHT) as pool:
        futures = {name: pool.submit(work, name) for name in names}
        for name, future in futures.items():
            try:
                out.append((name, future.result()))
            except NeonSyncError as exc:
                errors[name] = str(exc)
    return out
