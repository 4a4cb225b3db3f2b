"""Named sets of vars a sync item can ask for with `preset:`. Each entry is what a user
could have written under `vars:` themselves."""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    "prisma": {
        "DATABASE_URL": {"url": "pooled", "format": "prisma"},
        "DIRECT_URL": "direct",
    },
    # The names the Vercel-Neon integration sets, pooled or direct as it has them.
    "vercel-postgres": {
        "DATABASE_URL": "pooled",
        "DATABASE_URL_UNPOOLED": "direct",
        "PGHOST": "{pooled_host}",
        "PGHOST_UNPOOLED": "{host}",
        "PGUSER": "{role}",
        "PGDATABASE": "{database}",
        "PGPASSWORD": "{password}",
        "POSTGRES_URL": "pooled",
        "POSTGRES_URL_NON_POOLING": "direct",
        "POSTGRES_USER": "{role}",
        "POSTGRES_HOST": "{pooled_host}",
        "POSTGRES_PASSWORD": "{password}",
        "POSTGRES_DATABASE": "{database}",
        "POSTGRES_URL_NO_SSL": {"url": "pooled", "bare": True},
        "POSTGRES_PRISMA_URL": {"url": "pooled", "format": "prisma"},
    },
    "libpq": {
        "PGHOST": "{host}",
        "PGPORT": "{port}",
        "PGUSER": "{role}",
        "PGPASSWORD": "{password}",
        "PGDATABASE": "{database}",
        "PGSSLMODE": "{sslmode}",
    },
}
