"""The prune guard over loopback: a mass prune, an empty branch list or one without the default
branch deletes nothing; `plan` says so first; `--force` lifts the limits (not a broken list)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from neon_sync.emulators.server import serve
from neon_sync.emulators.vercel import VercelEmulator
from tests.conftest import NEON_KEY, Result, SeededNeon

TOKEN = "vt_guard_token_31"
CONFIG = """\
version: 1
neon: {{ project_id: {project_id} }}
targets:
  local: {{ provider: dotenv, path: .env }}
  shop: {{ provider: vercel, project: shop }}
{safety}
branches:
  - match: "dev/{{user}}"
    sync:
      - target: local
        path: ".env.{{user}}"
        vars: {{ DATABASE_URL: pooled }}
      - target: shop
        environment: preview
        git_branch: "{{user}}"
        vars: {{ DATABASE_URL: pooled }}
"""
USERS = [f"u{i}" for i in range(7)]  # with the seed's dev/alice: 8 owned keys per target
Run = Callable[..., Result]


@pytest.fixture
def vercel() -> VercelEmulator:
    emu = VercelEmulator(token=TOKEN)
    emu.add_project("shop")
    return emu


@pytest.fixture
def cli(
    run_cli: Run,
    write_config: Callable[[str], Path],
    neon: SeededNeon,
    vercel: VercelEmulator,
) -> Iterator[Callable[..., Result]]:
    """The CLI against an unchecked Neon (tests below make it answer off-spec listings)."""
    for user in USERS:
        neon.add_branch(neon.project_id, f"dev/{user}")

    def run(*args: str, safety: str = "") -> Result:
        write_config(CONFIG.format(project_id=neon.project_id, safety=safety))
        return run_cli(*args, env=env)

    with serve(neon.handle) as neon_url, serve(vercel.handle) as vercel_url:
        env = {
            "NEON_API_HOST": neon_url + "/api/v2",
            "NEON_API_KEY": NEON_KEY,
            "VERCEL_API_URL": vercel_url,
            "VERCEL_TOKEN": TOKEN,
        }
        assert run("sync").exit_code == 0
        yield run


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob(".env*"))}


def deletes(vercel: VercelEmulator) -> list[str]:
    """The variables deleted (Vercel deletes a run's variables in one batched request)."""
    out: list[str] = []
    for entry in vercel.log:
        if entry.method == "DELETE":
            body = entry.body if isinstance(entry.body, dict) else {}
            out += [str(i) for i in body.get("ids", [])] or [entry.path]
    return out


def remove(neon: SeededNeon, users: list[str]) -> None:
    for user in users:
        neon.remove_branch(neon.project_id, f"dev/{user}")


def test_a_mass_prune_is_refused_and_deletes_nothing(
    cli: Run, neon: SeededNeon, vercel: VercelEmulator, tmp_path: Path
) -> None:
    remove(neon, USERS[:6])  # 6 of 8 owned keys in each target: 75% > 50%
    before, held = files(tmp_path), len(vercel.envs("shop"))
    result = cli("sync", "--prune", "--json")
    assert result.exit_code == 1
    assert files(tmp_path) == before and len(vercel.envs("shop")) == held
    assert deletes(vercel) == []
    errors = {e["target"]: e["message"] for e in json.loads(result.stdout)["errors"]}
    assert set(errors) == {"local", "shop"}
    assert "prune would delete 6 keys, 75% of the 8 keys" in errors["shop"]
    assert "--force" in errors["shop"]


def test_plan_shows_the_guards_verdict_before_anything_runs(
    cli: Run, neon: SeededNeon, vercel: VercelEmulator
) -> None:
    remove(neon, USERS[:6])
    result = cli("plan", "--prune")
    assert result.exit_code == 0
    assert "sync would refuse target shop: prune would delete 6 keys" in result.stderr
    doc = json.loads(cli("plan", "--prune", "--json").stdout)
    assert {(r["target"], r["deletes"]) for r in doc["refused"]} == {("local", 6), ("shop", 6)}
    assert deletes(vercel) == []


def test_force_lifts_the_guard_for_one_run(
    cli: Run, neon: SeededNeon, vercel: VercelEmulator, tmp_path: Path
) -> None:
    remove(neon, USERS[:6])
    result = cli("sync", "--prune", "--force")
    assert result.exit_code == 0, result.output
    held = {name for name, text in files(tmp_path).items() if b"DATABASE_URL=" in text}
    assert held == {".env.alice", ".env.u6"}  # the pruned files stay, emptied of our key
    assert len(deletes(vercel)) == 6
    assert {e["gitBranch"] for e in vercel.envs("shop")} == {"alice", "u6"}


def test_max_deletes_from_the_config_applies(
    cli: Run, neon: SeededNeon, vercel: VercelEmulator
) -> None:
    remove(neon, USERS[:3])  # 3 of 8: under the share, over max_deletes 2
    result = cli("sync", "--prune", safety="safety: { max_deletes: 2 }")
    assert result.exit_code == 1
    assert "more than safety.max_deletes (2)" in result.stderr
    assert deletes(vercel) == []
    assert cli("sync", "--prune").exit_code == 0  # the default limits allow 3 of 8
    assert len(deletes(vercel)) == 3


def test_a_small_prune_goes_ahead(cli: Run, neon: SeededNeon, vercel: VercelEmulator) -> None:
    remove(neon, USERS[:1])
    assert cli("sync", "--prune").exit_code == 0
    assert len(deletes(vercel)) == 1


@pytest.mark.parametrize("listing", ["empty", "no default"])
def test_an_untrustworthy_branch_list_deletes_nothing_even_with_force(
    cli: Run, neon: SeededNeon, vercel: VercelEmulator, tmp_path: Path, listing: str
) -> None:
    branches = [] if listing == "empty" else [neon.branch(neon.project_id, "dev/u0")]
    body = {"branches": branches, "pagination": {}}
    neon.inject(200, method="GET", path=r"/branches$", body=body, times=10)
    before = files(tmp_path)
    result = cli("sync", "--prune", "--force")
    assert result.exit_code == 1
    assert files(tmp_path) == before
    assert deletes(vercel) == []
    why = "listed no branches" if listing == "empty" else "lacks its default branch"
    assert why in result.stderr and "prune deletes nothing" in result.stderr
