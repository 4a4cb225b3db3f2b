"""How a scope (environments + Git branch) maps onto Vercel's variables, which each hold one
key for a *set* of environments. Pure: no I/O.

A scope's key is held by the variables with that key and Git branch whose targets overlap the
scope's. The usual case is one variable with exactly the scope's targets: it is updated in
place. Otherwise (a dashboard-made preview+development variable, say) the overlapping
variables are split: each loses the scope's targets (deleted when none would remain), and one
variable for exactly the scope is created, so no other environment changes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from neon_sync.providers.base import Current
from neon_sync.providers.vercel.options import Spec, owner_of

Env = dict[str, Any]


def overlapping(envs: Iterable[Env], key: str, spec: Spec) -> list[Env]:
    wanted = set(spec.targets)
    return [
        env
        for env in envs
        if env.get("key") == key
        and (env.get("gitBranch") or None) == spec.git_branch
        and wanted & set(env.get("target") or ())
    ]


def readable(env: Env) -> str | None:
    """The value when the list showed it: never for sensitive, and for encrypted only when
    the API says it decrypted it."""
    kind = env.get("type")
    if kind == "sensitive" or (kind != "plain" and env.get("decrypted") is not True):
        return None
    value = env.get("value")
    return value if isinstance(value, str) else None


def current(envs: Sequence[Env], spec: Spec) -> dict[str, Current]:
    out: dict[str, Current] = {}
    for key in sorted({str(env.get("key")) for env in envs}):
        parts = overlapping(envs, key, spec)
        if not parts:
            continue
        values = {readable(part) for part in parts}
        # Parts that disagree, or one we cannot read, leave the comparison to the engine's
        # fingerprint of what it wrote.
        value = values.pop() if len(values) == 1 else None
        owners = {spec.owner_of(part.get("comment")) for part in parts}
        out[key] = Current(
            key,
            value,
            secret=any(part.get("type") != "plain" for part in parts),
            updated_at=str(max(int(part.get("updatedAt") or 0) for part in parts)),
            owner=owners.pop() if len(owners) == 1 else None,
        )
    return out


def stray(
    envs: Sequence[Env], asked: Sequence[Spec]
) -> dict[tuple[tuple[str, ...], str | None], list[Env]]:
    """Variables neon-sync marked as its own that no asked scope covers, by (targets, branch):
    a deleted branch's preview variables, found without local state."""
    out: dict[tuple[tuple[str, ...], str | None], list[Env]] = {}
    project = asked[0].neon_project if asked else ""
    for env in envs:
        if owner_of(env.get("comment"), project) is None:
            continue
        targets = tuple(sorted(set(env.get("target") or ())))
        branch = env.get("gitBranch") or None
        covered = any(
            spec.git_branch == branch and set(spec.targets) & set(targets) for spec in asked
        )
        if targets and not covered:
            out.setdefault((targets, branch), []).append(env)
    return out


@dataclass
class Steps:
    """What one scope's writes need, in the order they must run."""

    edits: list[tuple[Env, list[str]]] = field(default_factory=list)  # narrow targets
    deletes: list[Env] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def clear(steps: Steps, parts: Sequence[Env], spec: Spec, why: str) -> None:
    """Take the scope's targets away from `parts`, leaving their other targets untouched."""
    for part in parts:
        left = sorted(set(part.get("target") or ()) - set(spec.targets))
        if left:
            steps.edits.append((part, left))
            steps.notes.append(
                f"{part['key']} was one variable for {'+'.join(sorted(part['target']))}: "
                f"split it, kept for {'+'.join(left)}, {why} for {spec.label}"
            )
        else:
            steps.deletes.append(part)


def new_item(spec: Spec, key: str, value: str, kind: str, branch: str) -> Env:
    item: Env = {
        "key": key,
        "value": value,
        "type": kind,
        "target": list(spec.targets),
        "comment": spec.comment(branch),
    }
    if spec.git_branch:
        item["gitBranch"] = spec.git_branch
    return item


def in_place(parts: Sequence[Env], spec: Spec, kind: str) -> bool:
    """True when the one variable holding the key is exactly the scope's: an upsert
    updates it. A type change is not possible in place (Vercel: delete + create)."""
    return (
        len(parts) == 1
        and sorted(set(parts[0].get("target") or ())) == list(spec.targets)
        and parts[0].get("type") == kind
    )
