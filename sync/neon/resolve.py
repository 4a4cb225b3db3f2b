"""Finding a branch someone typed: the one lookup and the one "not found" wording for every
command that takes a branch (`url`, `plan -b`, `sync -b`, `rotate`, `branch create --parent`)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from neon_sync.errors import ConfigError
from neon_sync.neon.model import Branch


def find_branch(branches: Sequence[Branch], ref: str) -> Branch | None:
    """A branch by name (what people type), else by id."""
    by_name = next((b for b in branches if b.name == ref), None)
    return by_name or next((b for b in branches if b.id == ref), None)


def not_found(ref: str, branches: Sequence[Branch], project_id: str) -> ConfigError:
    """A usage error (exit 2) naming the branch and the closest existing names."""
    names = sorted(b.name for b in branches)
    close = difflib.get_close_matches(ref, names, n=3, cutoff=0.5)
    hint = f"; closest: {', '.join(map(repr, close))}" if close else ""
    return ConfigError(
        f"branch {ref!r} not found in Neon project {project_id}{hint} "
        "(`neon-sync branches` lists them)"
    )


def resolve_branch(branches: Sequence[Branch], ref: str, project_id: str) -> Branch:
    found = find_branch(branches, ref)
    if found is None:
        raise not_found(ref, branches, project_id)
    return found
