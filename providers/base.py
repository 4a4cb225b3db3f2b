"""The contract between the engine and a provider, and everything a provider needs.

A provider is a module that defines `OPTIONS` (the option keys its targets accept) and
`create(context) -> Provider`, listed in `neon_sync.providers.REGISTRY`. It knows how to reach
one kind of place that holds variables (a .env file, a GitHub repository, a Vercel project).
It never sees the config file or the Neon client: the engine hands it resolved options,
desired values and the writes to make. The diff lives in the engine (neon_sync.engine.plan).

    scope()   options of one target (after a sync item's overrides) -> the Scope they address
    read()    the current keys of some scopes, in as few requests as the API allows
    apply()   create / update / delete keys of one scope; return a change marker per key

Subclass `BaseProvider` and write those three; the other hooks have no-op defaults. This
module is the one import a provider in its own distribution needs: the data types, the
errors, `Secret` and the HTTP helpers are all re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import httpx

from neon_sync.errors import ApiError, ConfigError, ProviderError, StateError
from neon_sync.http import Retry, call, make_client
from neon_sync.secret import Secret, scrub

__all__ = [
    "ApiError",
    "AppliesScopes",
    "BaseProvider",
    "ConfigError",
    "Context",
    "Current",
    "Desired",
    "Markers",
    "Options",
    "Provider",
    "ProviderError",
    "Retry",
    "Scope",
    "ScopesError",
    "Secret",
    "StateError",
    "StateStore",
    "Write",
    "WriteBudget",
    "call",
    "make_client",
    "scrub",
]

# A target's options after placeholder expansion: str, bool, int or lists of str.
Options = Mapping[str, Any]


@dataclass(frozen=True, order=True)
class Scope:
    """One place that holds keys, e.g. a .env file, a GitHub environment, a Vercel
    (project, environment, git branch). `id` is chosen by the provider: stable, readable,
    unique within the target (".env.alice", "environment:pr-12", "preview@feature-x")."""

    target: str
    id: str
    options: Options = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Desired:
    """What the engine wants one key to hold."""

    key: str
    value: Secret
    secret: bool  # False: a plain, readable variable where the provider distinguishes
    branch: str  # the Neon branch the value comes from: the ownership marker
    sensitive: bool | None = None  # per-var `sensitive:` (write-only where the provider has it,
    # e.g. Vercel); None: the target's own setting


@dataclass(frozen=True)
class Current:
    """What a provider found under one key."""

    key: str
    value: str | None  # None: write-only (a GitHub secret, a Vercel sensitive var)
    secret: bool | None = None  # None: the provider has one kind of value (a .env file)
    updated_at: str | None = None  # the service's change marker, to notice edits by others
    owner: str | None = None  # Neon branch recorded by the provider itself (e.g. a comment)
    # A provider with two kinds of value in separate namespaces (GitHub secrets and variables)
    # may hold one name as both: `self` is the readable kind, `twin` the write-only one. The
    # engine compares against whichever kind the config wants.
    twin: Current | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Write:
    action: Literal["create", "update", "delete"]
    key: str
    desired: Desired | None  # None for delete
    current: Current | None  # None for create


@dataclass(frozen=True)
class Context:
    """What a provider may use from the run: the environment (tokens, API URLs), the folder
    relative paths are resolved against, and the HTTP transport (an emulator in tests)."""

    env: Mapping[str, str]
    base_dir: Path
    transport: httpx.BaseTransport | None = None
    sleep: Any = None  # Callable[[float], None] to wait out rate limits; None means time.sleep
    neon_project: str = ""  # the Neon project id, for ownership marks a service keeps itself


class StateStore(Protocol):
    """Where neon-sync keeps its records of what it wrote (a local file, a GitHub variable)."""

    def load(self) -> dict[str, Any] | None:
        """The document last saved, None if there is none yet."""
        ...

    def save(self, document: dict[str, Any]) -> None: ...

    def update(self, merge: Callable[[dict[str, Any] | None], dict[str, Any]]) -> None:
        """Save `merge(the document as it is now)`, safe against other runs saving too
        (a lock, or reading back and merging again)."""
        ...

    def close(self) -> None: ...


class Provider(Protocol):
    def scope(self, target: str, options: Options) -> Scope:
        """Validate resolved options and name their scope. Raise ConfigError if they are
        wrong. Must not touch the network: `neon-sync validate` calls it."""
        ...

    def check_key(self, scope: Scope, desired: Desired) -> None:
        """Raise ConfigError if the service cannot hold this key/value (name rules, size).
        A check only: `read` and `apply` must not depend on it having been called."""
        ...

    def canonical_key(self, key: str) -> str:
        """The key as the service holds it: a service that matches names case-insensitively
        (GitHub) maps a config's `database_url` to the stored `DATABASE_URL`, so plans
        compare and write the stored form."""
        ...

    def check_settings(self) -> None:
        """Raise ConfigError when the run's environment lacks what the provider needs (a
        token) or holds a malformed setting (an API URL). Called once before a plan; must
        not touch the network. `validate` does not call it."""
        ...

    def read(self, scopes: Sequence[Scope]) -> Mapping[Scope, Mapping[str, Current]]:
        """Current keys of each scope (a missing scope maps to {}). May also return other
        scopes of the same targets holding keys the provider knows neon-sync owns
        (Current.owner set), so `--prune` finds them without local state."""
        ...

    def apply(self, scope: Scope, writes: Sequence[Write]) -> Mapping[str, str | None]:
        """Make the writes; return key -> the new change marker (updated_at) for each key
        written. On failure raise ProviderError with `done` set to what was written."""
        ...

    def created_scopes(self) -> frozenset[str]:
        """Ids of scopes this run created (a GitHub environment), so that a later `--prune`
        may remove them once the branch they were made for is gone."""
        ...

    def remove_scope(self, scope: Scope) -> bool:
        """Remove a scope neon-sync created, only if it is empty now; True if it is gone."""
        ...

    def take_notes(self) -> list[str]:
        """Lines for the user about what the provider did beyond plain writes (a split
        variable, a redeploy) since the last call."""
        ...

    def state_store(self, options: Options) -> StateStore:
        """A store for neon-sync's state inside a target (`state: {target: NAME}`); raise
        ConfigError if this provider cannot hold it."""
        ...

    def close(self) -> None: ...


class BaseProvider:
    """No-op defaults for the optional hooks; subclasses write scope, read and apply."""

    name = "provider"

    def __init__(self) -> None:
        self._notes: list[str] = []

    def check_key(self, scope: Scope, desired: Desired) -> None:
        return None

    def canonical_key(self, key: str) -> str:
        return key

    def check_settings(self) -> None:
        return None

    def created_scopes(self) -> frozenset[str]:
        return frozenset()

    def remove_scope(self, scope: Scope) -> bool:
        return False

    def note(self, line: str) -> None:
        self._notes.append(line)

    def take_notes(self) -> list[str]:
        taken, self._notes = self._notes, []
        return taken

    def state_store(self, options: Options) -> StateStore:
        raise ConfigError(f"provider {self.name!r} cannot hold neon-sync's state")

    def close(self) -> None:
        return None


# -- Optional extensions ----------------------------------------------------------------------
# A provider may also have the methods below; the engine uses them when it finds them
# (isinstance on these runtime-checkable protocols) and otherwise keeps to the contract above.

Markers = Mapping[str, str | None]  # key -> change marker, as apply() returns


class ScopesError(ProviderError):
    """apply_scopes() failed part-way: `done_by_scope` holds what was written, per scope."""

    def __init__(self, message: str, done_by_scope: Mapping[Scope, Markers]) -> None:
        self.done_by_scope = {scope: dict(done) for scope, done in done_by_scope.items()}
        super().__init__(message)


@runtime_checkable
class AppliesScopes(Protocol):
    """A provider whose API writes several scopes in one request (Vercel takes one batch of
    variables for all environments and Git branches of a project)."""

    def apply_scopes(self, writes: Mapping[Scope, Sequence[Write]]) -> Mapping[Scope, Markers]:
        """Make the writes of all these scopes (of one target) in as few requests as the API
        allows; return scope -> key -> new change marker. On failure raise ScopesError."""
        ...


@runtime_checkable
class WriteBudget(Protocol):
    """A provider whose service caps writes per hour (GitHub: 500 content-creating requests)."""

    def write_budget(self, writes: Mapping[Scope, Sequence[Write]]) -> str | None:
        """None when these writes fit the service's budget, else one line saying what the
        run would need, what the service allows and what to do. Must not touch the network."""
        ...
