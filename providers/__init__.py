"""The provider registry: config name -> module. Modules load only when a target uses them,
so start-up stays fast and a provider's own dependencies (PyNaCl) are needed only by it.

A provider module defines:
    OPTIONS: frozenset[str]                         # option keys its targets accept
    def create(context: Context) -> Provider        # see neon_sync.providers.base

Built-ins are listed in REGISTRY. Other distributions add providers through the entry-point
group `neon_sync.providers` (`name = "their.module"`), looked up only for a name that is not
built in, and imported only when a target uses it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from neon_sync.errors import ConfigError, ProviderError

ENTRY_POINT_GROUP = "neon_sync.providers"
REGISTRY: dict[str, str] = {
    "dotenv": "neon_sync.providers.dotenv",
    "github": "neon_sync.providers.github.provider",
    "vercel": "neon_sync.providers.vercel.provider",
}


def plugins() -> dict[str, str]:
    """Installed plugin providers: name -> module (built-in names cannot be taken over)."""
    from importlib.metadata import entry_points

    found = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    return {name: value for name, value in found.items() if name not in REGISTRY}


def module(name: str) -> ModuleType:
    """The provider module for a config name. ConfigError for a name nobody knows,
    ProviderError for a known provider this installation lacks (or a plugin that fails)."""
    if name in REGISTRY:
        return _import(name, REGISTRY[name], builtin=True)
    installed = plugins()
    if name not in installed:
        known = ", ".join(sorted({*REGISTRY, *installed}))
        raise ConfigError(
            f"unknown provider {name!r}; known providers: {known} (plugins register in the "
            f"entry-point group {ENTRY_POINT_GROUP})"
        )
    return _import(name, installed[name], builtin=False)


def _import(name: str, path: str, *, builtin: bool) -> ModuleType:
    try:
        loaded = importlib.import_module(path)
    except ModuleNotFoundError as exc:
        if exc.name == path and builtin:
            raise ProviderError(
                f"provider {name!r} is not available in this version of neon-sync"
            ) from None
        if builtin:
            raise ProviderError(
                f"provider {name!r} needs the Python package {exc.name!r}: "
                f"pip install 'neon-sync[{name}]'"
            ) from None
        raise ProviderError(
            f"plugin provider {name!r} ({path}) cannot be imported: no module {exc.name!r}"
        ) from None
    if not builtin and not (hasattr(loaded, "OPTIONS") and hasattr(loaded, "create")):
        raise ProviderError(f"plugin provider {name!r} ({path}) defines no OPTIONS and create()")
    return loaded
