"""Named sets of vars a sync item can ask for with `preset:` (and `url --preset`). Each entry
is what a user could have written under `vars:` themselves; the README's preset table says
why each stack gets the pooled or direct string and the options it does."""

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
    # Serverless and Node apps run many short connections: the pooler.
    "node-postgres": {"DATABASE_URL": "pooled"},
    # postgres.js sends query parameters it does not know to the server as settings, where
    # channel_binding is not one.
    "postgres-js": {"DATABASE_URL": {"url": "pooled", "channel_binding": "omit"}},
    # drizzle-kit migrates with session features PgBouncer's transaction mode lacks; drizzle
    # runs on pg or postgres.js, and the latter fails on channel_binding (see postgres-js).
    "drizzle": {
        "DATABASE_URL": {"url": "pooled", "channel_binding": "omit"},
        "DATABASE_URL_UNPOOLED": {"url": "direct", "channel_binding": "omit"},
    },
    "psycopg": {"DATABASE_URL": "pooled"},
    # asyncpg, too, passes unknown parameters to the server as settings.
    "asyncpg": {"DATABASE_URL": {"url": "pooled", "channel_binding": "omit"}},
    "sqlalchemy": {"DATABASE_URL": {"url": "pooled", "format": "sqlalchemy"}},
    # Django keeps connections open per request thread and runs migrations: direct. Some
    # settings read the PG* variables instead of dj-database-url.
    "django": {
        "DATABASE_URL": "direct",
        "PGHOST": "{host}",
        "PGUSER": "{role}",
        "PGPASSWORD": "{password}",
        "PGDATABASE": "{database}",
    },
    # Rails runs migrations and uses prepared statements by default: direct.
    "rails": {"DATABASE_URL": "direct"},
    # pgJDBC tools refuse credentials in the URL: they go in their own variables.
    "jdbc": {
        "JDBC_DATABASE_URL": {"url": "direct", "format": "jdbc", "credentials": False},
        "JDBC_DATABASE_USERNAME": "{role}",
        "JDBC_DATABASE_PASSWORD": "{password}",
    },
    "spring": {
        "SPRING_DATASOURCE_URL": {"url": "direct", "format": "jdbc", "credentials": False},
        "SPRING_DATASOURCE_USERNAME": "{role}",
        "SPRING_DATASOURCE_PASSWORD": "{password}",
    },
    # ASP.NET Core reads ConnectionStrings:DefaultConnection from this variable.
    "dotnet": {"ConnectionStrings__DefaultConnection": {"url": "direct", "format": "npgsql"}},
    # pgx sends URL parameters it does not consume to the server as settings (channel_binding
    # in releases that predate it); it caches prepared statements per connection: direct.
    "go-pgx": {"DATABASE_URL": {"url": "direct", "channel_binding": "omit"}},
}
