"""Preview branches and password rotation, one step each: `branch create`, `branch delete`
and `rotate`. Each finishes its Neon write (operations included) before touching a target,
so no target ever holds a value Neon does not serve yet."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, quote_plus

from neon_sync.engine.apply import Outcome
from neon_sync.engine.failures import grouped
from neon_sync.engine.plan import Action, Plan
from neon_sync.engine.run import Run
from neon_sync.errors import ApiError, ConfigError, ProviderError
from neon_sync.neon.client import Branch
from neon_sync.neon.resolve import find_branch, resolve_branch


@dataclass(frozen=True)
class Created:
    branch: Branch
    new: bool  # False: a branch of that name existed and was reused
    outcome: Outcome | None  # None without sync


def create_branch(
    run: Run,
    name: str,
    *,
    parent: str | None,
    expires_in: float | None,
    sync: bool,
    on_ready: Callable[[Branch, bool], None] | None = None,
) -> Created:
    """Get or create branch `name`, then (with `sync`) write its values to every target whose
    rules match it. An existing branch is reused as it is: its parent, expiry and computes
    are left alone (a branch without a read_write compute shows up as a target error)."""
    if not name.strip():
        raise ConfigError("the branch name is empty")
    if expires_in is not None and expires_in <= 0:
        raise ConfigError(f"--expires-in must be positive, not {expires_in:g} seconds")
    branch, new = _get_or_create(run, name, parent, expires_in)
    if on_ready is not None:  # the branch exists whatever the sync does: say so first
        on_ready(branch, new)
    outcome = run.sync(branches=[branch.name]) if sync else None
    return Created(branch, new, outcome)


def delete_branch(run: Run, name: str, *, sync: bool, force: bool = False) -> Outcome | None:
    """With `sync`, remove what neon-sync wrote for branch `name` (name or id) from every
    target, then delete the branch in Neon. Refuses the default branch, protected branches
    and branches with children before writing anything. A branch already gone is fine: its
    leftovers in targets are still pruned."""
    branches = run.neon.branches()
    branch = find_branch(branches, name)
    if branch is not None:
        _check_deletable(run, branch, branches)
    label = branch.name if branch else name
    outcome = None
    if sync:
        outcome = run.sync(branches=[label], prune=True, retiring=frozenset({label}), force=force)
        if run.interrupt is not None and run.interrupt.signum is not None:
            return outcome  # stopped by a signal: the branch stays, a re-run finishes
        if outcome.failed or outcome.undone:  # undone: a signal stopped the prune
            # Deleting now would leave values nobody prunes for a branch that no longer
            # exists; keeping it lets a re-run finish the job.
            failed = (
                "; ".join(
                    [f"{target}: {why}" for target, why in sorted(outcome.errors.items())]
                    + grouped(outcome.failures)
                )
                or "interrupted"
            )
            raise ProviderError(
                f"branch {label!r} was not deleted in Neon, because removing its values failed "
                f"({failed}); fix that and run `neon-sync branch delete {label}` again"
            )
    if branch is not None:
        run.neon.delete_branch(branch.id)
    return outcome


def rotate(
    run: Run,
    branch: str,
    *,
    role: str | None,
    dry_run: bool = False,
    confirm: Callable[[Rotation], bool] | None = None,
) -> Outcome:
    """Reset the role's password on `branch` (name or id), wait until Neon uses it, then
    write it to every target that holds a value for that branch. The new password comes
    from the reset's answer (the client caches it): no reveal, no window of a stale read.
    `dry_run`: the keys that would change, nothing reset. `confirm` sees that preview and
    may stop the rotation (ConfigError) before anything is reset."""
    found = resolve_branch(run.neon.branches(), branch, run.neon.project_id)
    role_name = role or run.config.neon.role
    # Check first: a typo is a usage error, caught before anything is written.
    roles = [r.name for r in run.neon.roles(found.id)]
    if role_name not in roles:
        raise ConfigError(
            f"branch {found.name!r} has no role {role_name!r}; its roles: {', '.join(roles)}"
        )
    if dry_run or confirm is not None:
        preview = rotation_preview(run, found, role_name)
        if dry_run:
            plan = preview.plan
            return Outcome(plan, False, dict(plan.errors), failures=list(plan.failures))
        if confirm is not None and not confirm(preview):
            raise ConfigError(f"rotate {found.name}: not confirmed; nothing was reset")
    # Returns once the reset's operations finished: the new password works from here on.
    run.neon.reset_password(found.id, role_name)
    return run.sync(branches=[found.name])


@dataclass(frozen=True)
class Rotation:
    branch: str
    role: str
    plan: Plan  # the keys whose value holds the role's password, as updates

    @property
    def targets(self) -> list[str]:
        return sorted({change.target for change in self.plan.changes})


def rotation_preview(run: Run, branch: Branch, role: str) -> Rotation:
    """Every key the rotation would rewrite: those whose desired value holds the role's
    current password (in any form a string can carry it)."""
    plan = run.plan(branches=[branch.name])
    password = run.neon.password(branch.id, role).reveal()
    forms = {password, quote(password, safe=""), quote_plus(password)}
    changes = [
        replace(change, action=Action.UPDATE, reason="new password")
        for change in plan.changes
        if change.desired is not None
        and any(form in change.desired.value.reveal() for form in forms)
    ]
    return Rotation(branch.name, role, Plan(changes, dict(plan.errors), failures=plan.failures))


def expires_at(seconds: float, now: datetime | None = None) -> str:
    """RFC 3339 with second precision, as Neon's `expires_at` wants it."""
    moment = (now or datetime.now(UTC)) + timedelta(seconds=seconds)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _get_or_create(
    run: Run, name: str, parent: str | None, expires_in: float | None
) -> tuple[Branch, bool]:
    neon = run.neon
    branches = neon.branches()
    existing = next((b for b in branches if b.name == name), None)
    if existing is not None:
        return existing, False
    parent_id = None
    if parent is not None:
        parent_id = resolve_branch(branches, parent, neon.project_id).id
    when = expires_at(expires_in) if expires_in is not None else None
    try:
        return neon.create_branch(name, parent_id=parent_id, expires_at=when), True
    except ApiError as exc:
        if exc.status != 409:
            raise
        # Created by someone else between our listing and our request (two CI jobs for one
        # pull request): that branch is the one we wanted.
        neon.invalidate()
        raced = next((b for b in neon.branches() if b.name == name), None)
        if raced is None:
            raise
        return raced, False


def _check_deletable(run: Run, branch: Branch, branches: Sequence[Branch]) -> None:
    if branch.default:
        raise ConfigError(
            f"branch {branch.name!r} is the default branch of project {run.neon.project_id}; "
            "neon-sync never deletes it"
        )
    if branch.protected:
        raise ConfigError(
            f"branch {branch.name!r} is protected; neon-sync does not delete protected "
            "branches (unprotect it in the Neon console first if you mean it)"
        )
    # Neon refuses these too, but only after the targets would have been pruned.
    children = sorted(b.name for b in branches if b.parent_id == branch.id)
    if children:
        raise ConfigError(
            f"branch {branch.name!r} has child branches ({', '.join(children)}); delete those first"
        )
