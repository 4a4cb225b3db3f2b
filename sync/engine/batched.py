"""Writes for providers that take several scopes at once (providers.base.AppliesScopes): all
of a target's scopes go to the provider in one call, so its API can batch across them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from neon_sync.engine.plan import SCOPE_KEY, Change
from neon_sync.errors import NeonSyncError
from neon_sync.providers.base import AppliesScopes, Markers, Scope, ScopesError, Write


def apply_batched(
    provider: AppliesScopes,
    by_scope: Mapping[Scope, Sequence[Change]],
    to_write: Callable[[Change], Write],
) -> tuple[dict[Scope, Markers], list[str]]:
    """(what was written, per scope; failures). A failure keeps what the provider reports
    as done, so the engine still records it."""
    writes = {
        scope: [to_write(change) for change in changes if change.key != SCOPE_KEY]
        for scope, changes in by_scope.items()
    }
    writes = {scope: todo for scope, todo in writes.items() if todo}
    if not writes:
        return {}, []
    try:
        return dict(provider.apply_scopes(writes)), []
    except ScopesError as exc:
        return dict(exc.done_by_scope), [str(exc)]
    except NeonSyncError as exc:
        return {}, [str(exc)]
