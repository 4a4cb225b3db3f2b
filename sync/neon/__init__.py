"""Neon: the API client, what it returns, and the connection strings built from it."""

from __future__ import annotations

from collections.abc import Mapping

DEFAULT_API_HOST = "https://console.neon.tech/api/v2"


def api_host(env: Mapping[str, str], configured: str | None = None) -> str:
    """NEON_API_HOST wins over the config's `neon.api_host`, which wins over Neon's own."""
    return env.get("NEON_API_HOST") or configured or DEFAULT_API_HOST
