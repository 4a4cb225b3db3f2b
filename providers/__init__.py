"""The provider registry: config name -> module. Modules load only when a target uses them,
so start-up stays fast and a provider's own dependencies (PyNaCl) are needed only by it.

A provider module defines:
    OPTIONS: frozenset[str]                         # option keys its targets accept
    def create(context: Context) -> Provider        # see neon_sync.providers.base
"""

from __future__ import annotations

import importlib
from types import ModuleType

from neon_sync.errors import ConfigError, ProviderError

REGISTRY: dict[str, str] = {
    "dotenv": "neon_sync.providers.dotenv",
    "github": "neon_sync.providers.github.provider",
    "vercel": "neon_sync.providers.vercel.provider",
}


def module(name: str) -> ModuleType:
    """The provider module for a config name. ConfigError for a name nobody knows,
    ProviderError for a known provider this installation lacks."""
    if name not in REGISTRY:
        known = ", ".join(sorted(REGISTRY))
        raise ConfigError(f"unknown provider {name!r}; known providers: {known}")
    try:
        return importlib.import_module(REGISTRY[name])
    except ModuleNotFoundError as exc:
        if exc.name == REGISTRY[name]:
            raise ProviderError(
                f"provider {name!r} is not available in this version of neon-sync"
            ) from None
        raise ProviderError(
            f"provider {name!r} needs the Python package {exc.name!r}: "
            f"pip install 'neon-sync[{name}]'"
        ) from None
