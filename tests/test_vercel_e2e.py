"""`neon-sync sync` over loopback against the Neon and Vercel emulators, configured by env."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from neon_sync.emulators.server import serve
from neon_sync.emulators.vercel import VercelEmulator
from tests.conftest import NEON_KEY, Result, SeededNeon, Served

VERCEL_TOKEN = "vt_e2e_token_4567"
TEAM = "team_acme"
CONFIG = """\
version: 1
neon:
  project_id: {project_id}
targets:
  shop:
    provider: vercel
    project: shop
    team: {team}
branches:
  - match: main
    sync:
      - target: shop
        environment: production
        vars: {{ DATABASE_URL: pooled, DATABASE_URL_UNPOOLED: direct }}
  - match: "preview/{{git_branch}}"
    sync:
      - target: shop
        environment: preview
        git_branch: "{{git_branch}}"
        vars: {{ DATABASE_URL: pooled, DATABASE_URL_UNPOOLED: direct }}
"""
CONFIGURED = {
    ("DATABASE_URL", "production", ""),
    ("DATABASE_URL_UNPOOLED", "production", ""),
    ("DATABASE_URL", "preview", "feature-login"),
    ("DATABASE_URL_UNPOOLED", "preview", "feature-login"),
}


@pytest.fixture
def vercel() -> VercelEmulator:
    emu = VercelEmulator(token=VERCEL_TOKEN)
    emu.add_project("shop", team=TEAM)
    return emu


@pytest.fixture
def vercel_url(vercel: VercelEmulator) -> Iterator[str]:
    with serve(vercel.handle) as url:
        yield url


@pytest.fixture
def sync(
    neon: SeededNeon,
    neon_served: Served,
    vercel_url: str,
    write_config: Callable[[str], Path],
    run_cli: Callable[..., Result],
) -> Callable[..., Result]:
    write_config(CONFIG.format(project_id=neon.project_id, team=TEAM))
    env = {
        "NEON_API_HOST": neon_served.url,
        "NEON_API_KEY": NEON_KEY,
        "VERCEL_API_URL": vercel_url,
        "VERCEL_TOKEN": VERCEL_TOKEN,
    }

    def run(*args: str) -> Result:
        result = run_cli("sync", *args, env=env)
        assert VERCEL_TOKEN not in result.output
        assert result.exit_code == 0, result.output
        return result

    return run


def held(vercel: VercelEmulator) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {
        (e["key"], "+".join(sorted(e["target"])), e.get("gitBranch") or ""): e
        for e in vercel.envs("shop")
    }


def password(neon: SeededNeon, branch: str) -> str:
    return neon.password(neon.project_id, branch, "neondb_owner")


def test_first_sync_leaves_exactly_the_configured_variables(
    sync: Callable[..., Result], vercel: VercelEmulator, neon: SeededNeon
) -> None:
    result = sync()
    found = held(vercel)
    assert set(found) == CONFIGURED
    prod, preview = password(neon, "main"), password(neon, "preview/feature-login")
    assert prod in found[("DATABASE_URL", "production", "")]["value"]
    assert "-pooler" in found[("DATABASE_URL", "production", "")]["value"]
    assert preview in found[("DATABASE_URL_UNPOOLED", "preview", "feature-login")]["value"]
    assert {e["type"] for e in found.values()} == {"encrypted"}
    assert found[("DATABASE_URL", "preview", "feature-login")]["comment"] == (
        f"managed by neon-sync; neon project: {neon.project_id}; neon branch: preview/feature-login"
    )
    assert prod not in result.output and preview not in result.output
    assert all(entry.query.get("teamId") == TEAM for entry in vercel.log)


def test_second_run_makes_no_write_request(
    sync: Callable[..., Result], vercel: VercelEmulator
) -> None:
    sync()
    vercel.log.clear()
    sync()
    assert vercel.writes == []
    assert [entry.method for entry in vercel.log] == ["GET"]  # one list for the project


def test_changed_password_rewrites_only_that_branchs_variables(
    sync: Callable[..., Result], vercel: VercelEmulator, neon: SeededNeon
) -> None:
    sync()
    before = held(vercel)
    neon.set_password(neon.project_id, "main", "neondb_owner", "npg_rotated_Secret99")
    vercel.log.clear()
    result = sync()
    after = held(vercel)
    assert "npg_rotated_Secret99" in after[("DATABASE_URL", "production", "")]["value"]
    assert "npg_rotated_Secret99" not in result.output
    changed = {k for k in CONFIGURED if after[k]["updatedAt"] != before[k]["updatedAt"]}
    assert changed == {
        ("DATABASE_URL", "production", ""),
        ("DATABASE_URL_UNPOOLED", "production", ""),
    }
    assert [entry.method for entry in vercel.writes] == ["POST"]


def test_out_of_band_edit_is_put_back(
    sync: Callable[..., Result], vercel: VercelEmulator, vercel_url: str
) -> None:
    sync()
    good = held(vercel)[("DATABASE_URL", "production", "")]
    httpx.patch(
        f"{vercel_url}/v9/projects/shop/env/{good['id']}?teamId={TEAM}",
        headers={"authorization": f"Bearer {VERCEL_TOKEN}"},
        json={"value": "postgresql://someone:else@elsewhere/db"},
    ).raise_for_status()
    sync()
    assert held(vercel)[("DATABASE_URL", "production", "")]["value"] == good["value"]


def test_prune_after_a_preview_branch_is_deleted_removes_exactly_its_variables(
    sync: Callable[..., Result], vercel: VercelEmulator, neon: SeededNeon, tmp_path: Path
) -> None:
    sync()
    vercel.add_env("shop", "UNRELATED", "x", ["preview"], git_branch="feature-login")
    kept = {k: v for k, v in held(vercel).items() if k[2] != "feature-login" or k[0] == "UNRELATED"}
    neon.remove_branch(neon.project_id, "preview/feature-login")
    (tmp_path / ".neon-sync" / "state.json").unlink()  # ownership comes from Vercel alone
    vercel.log.clear()
    sync("--prune")
    assert held(vercel) == kept
    assert {entry.method for entry in vercel.writes} == {"DELETE"}
