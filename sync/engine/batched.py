"""Writes for providers that take several scopes at once (providers.base.AppliesScopes): all
of a target's scopes go to the provider in one call, so its API can batch across them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from neon_sync.engine.plan import Change, writes_by_scope
from neon_sync.errors import NeonSyncError
from neon_sync.providers.base import AppliesScopes, Markers, Scope, ScopesError


def apply_batched(
    provider: AppliesScopes,
    by_scope: Mapping[Scope, Sequence[Change]],
) -> tuple[dict[Scope, Markers], list[str]]:
    """(what was written, per scope; failures). A failure keeps what the provider reports
    as done, so the engine still records it."""
    writes = writes_by_scope(change for changes in by_scope.values() for change in changes)
    if not writes:
        return {}, []
    try:
        return dict(provider.apply_scopes(writes)), []
    except ScopesError as exc:
        return dict(exc.done_by_scope), [str(exc)]
    except NeonSyncError as exc:
        return {}, [str(exc)]
