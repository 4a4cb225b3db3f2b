"""The prune guard: data on the plan, checked before apply (octoDNS's `Plan.raise_if_unsafe`).

A prune that would delete more than `safety.max_deletes` keys of a target, or more than
`safety.max_delete_share` of the keys neon-sync owns there, is refused for that target unless
`--force`. When Neon's branch list is empty or lacks the default branch, it is not to be
trusted (an API glitch, a wrong project id, a token for another account): then no prune
deletes anything, even with `--force`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from neon_sync.config.safety import MIN_OWNED_FOR_SHARE, Safety
from neon_sync.engine.plan import SCOPE_KEY, Action, Change, owners
from neon_sync.engine.state import State
from neon_sync.engine.verdict import Refusal, Verdict
from neon_sync.neon.client import Branch
from neon_sync.providers.base import Current, Scope


def owned_counts(state: State, current: Mapping[Scope, Mapping[str, Current]]) -> dict[str, int]:
    """Per target, how many keys neon-sync owns: by record, or by the service's own marker."""
    return Counter(target for target, _scope, key in owners(state, current) if key != SCOPE_KEY)


def judge(
    changes: Iterable[Change],
    owned: Mapping[str, int],
    safety: Safety,
    *,
    branches: Sequence[Branch],
    project_id: str,
    force: bool,
) -> Verdict:
    deletes = Counter(c.target for c in changes if c.action is Action.DELETE and c.key != SCOPE_KEY)
    if not deletes:
        return Verdict()
    distrust = None
    if not branches:
        distrust = f"Neon listed no branches for project {project_id}"
    elif not any(branch.default for branch in branches):
        distrust = f"Neon's branch list for project {project_id} lacks its default branch"
    if distrust is not None:  # --force cannot make a broken listing trustworthy
        why = (
            f"{distrust}, so prune deletes nothing (an API glitch, the wrong project id or a "
            "token for another account?); check `neon-sync branches`"
        )
        return Verdict(tuple(Refusal(t, n, why) for t, n in sorted(deletes.items())))
    if force:
        return Verdict()
    refusals = []
    for target, count in sorted(deletes.items()):
        total = owned.get(target, 0)
        if count > safety.max_deletes:
            why = f"more than safety.max_deletes ({safety.max_deletes})"
        elif total >= MIN_OWNED_FOR_SHARE and count / total > safety.max_delete_share:
            why = (
                f"{count / total:.0%} of the {total} keys neon-sync owns there, more than "
                f"safety.max_delete_share ({safety.max_delete_share:.0%})"
            )
        else:
            continue
        message = (
            f"prune would delete {count} keys, {why}; nothing was deleted there. Check that "
            "Neon's branch list is complete, then re-run with --force if this is intended"
        )
        refusals.append(Refusal(target, count, message))
    return Verdict(tuple(refusals))
