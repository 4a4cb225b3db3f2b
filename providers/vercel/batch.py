"""All writes to one Vercel project, across its environments and Git branches, as the fewest
requests the API allows: target narrowing edits (one PATCH per variable that keeps other
environments), one batch delete, one batched upsert. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from neon_sync.providers.base import Write
from neon_sync.providers.vercel import layout
from neon_sync.providers.vercel.options import Spec

Env = layout.Env


@dataclass
class Batch:
    edits: dict[str, tuple[Env, list[str]]] = field(default_factory=dict)  # id -> targets left
    deletes: dict[str, Env] = field(default_factory=dict)
    items: list[tuple[Spec, Env]] = field(default_factory=list)  # the scope each item is for
    deleted: list[tuple[Spec, str]] = field(default_factory=list)  # (scope, key) removed
    notes: list[str] = field(default_factory=list)


def plan(envs: Sequence[Env], work: Sequence[tuple[Spec, Sequence[Write]]]) -> Batch:
    """What the writes of every scope need, given the project's variables `envs`."""
    batch = Batch()
    for spec, writes in work:
        steps = layout.Steps()
        for write in writes:
            parts = layout.overlapping(envs, write.key, spec)
            if write.action == "delete" or write.desired is None:
                layout.clear(steps, parts, spec, "removed it")
                batch.deleted.append((spec, write.key))
                continue
            kind = spec.var_type(write.desired)
            if not layout.in_place(parts, spec, kind):
                layout.clear(steps, parts, spec, f"wrote a separate {kind} one")
            value = write.desired.value.reveal()
            item = layout.new_item(spec, write.key, value, kind, write.desired.branch)
            batch.items.append((spec, item))
        _merge(batch, steps)
    return batch


def _merge(batch: Batch, steps: layout.Steps) -> None:
    # Two scopes may each take their environments from one dashboard variable (preview and
    # development of a preview+development one): one edit leaves what neither takes.
    for env, left in steps.edits:
        if env["id"] in batch.deletes:
            continue
        before = batch.edits.get(env["id"])
        keep = sorted(set(left) & set(before[1])) if before else left
        if keep:
            batch.edits[env["id"]] = (env, keep)
        else:
            batch.edits.pop(env["id"], None)
            batch.deletes[env["id"]] = env
    for env in steps.deletes:
        batch.edits.pop(env["id"], None)
        batch.deletes[env["id"]] = env
    batch.notes += steps.notes


def owner_spec(env: Env, specs: Sequence[Spec]) -> Spec | None:
    """The scope a created (or failed) variable was written for: same targets and Git branch."""
    targets = sorted(set(env.get("target") or ()))
    branch = env.get("gitBranch") or None
    for spec in specs:
        if list(spec.targets) == targets and spec.git_branch == branch:
            return spec
    return None
