"""node-postgres (`pg`) and postgres.js (`postgres`) open the strings neon-sync wrote for the
Node presets, from the npm packages in tests/realpg/node (installed by .ci/run with npm ci)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.realpg.conftest import APP_DATABASE, APP_ROLE, Layer, missing

NODE = Path(__file__).parent / "node"


def node(layer: Layer, driver: str, url: str) -> dict[str, str]:
    binary = shutil.which("node")
    if binary is None or not (NODE / "node_modules" / driver).is_dir():
        missing(f"node and the npm package {driver!r} (cd tests/realpg/node && npm ci)")
    resolve = {h: [a, p] for h, (a, p) in layer.resolve().items()}
    env = os.environ | {
        "DATABASE_URL": url,
        "NEON_SYNC_RESOLVE": json.dumps(resolve),
        # The test server's self-signed certificate, trusted like Neon's public CA.
        "NODE_EXTRA_CA_CERTS": str(layer.pg.cert),
    }
    done = subprocess.run(
        [binary, str(NODE / "connect.js"), driver],
        env=env, capture_output=True, text=True, timeout=30, check=False, cwd=NODE,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    row: dict[str, str] = json.loads(done.stdout)
    return row


@pytest.mark.parametrize(
    ("driver", "preset", "var"),
    [
        ("pg", "node-postgres", "DATABASE_URL"),
        ("pg", "drizzle", "DATABASE_URL"),
        ("pg", "drizzle", "DATABASE_URL_UNPOOLED"),
        ("pg", "vercel-postgres", "POSTGRES_URL"),
        ("postgres", "postgres-js", "DATABASE_URL"),
        ("postgres", "drizzle", "DATABASE_URL_UNPOOLED"),
    ],
)
def test_node_drivers_connect_through_preset_strings(
    layer: Layer, driver: str, preset: str, var: str
) -> None:
    row = node(layer, driver, layer.written[preset][var])
    assert (row["user"], row["db"]) == ("neondb_owner", "neondb")
    if driver == "pg":
        assert row["tls"] in ("TLSv1.2", "TLSv1.3")


@pytest.mark.parametrize("kind", ["POOLED", "DIRECT"])
def test_node_postgres_reads_escaped_role_and_database(layer: Layer, kind: str) -> None:
    row = node(layer, "pg", layer.written["app"][f"URI_{kind}"])
    assert (row["user"], row["db"]) == (APP_ROLE, APP_DATABASE)
