"""Vercel gets one batched write per project per run, however many preview Git branches."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from neon_sync.emulators.neon import NeonEmulator
from neon_sync.emulators.server import serve
from neon_sync.emulators.vercel import VercelEmulator
from neon_sync.engine.run import open_run

BRANCHES = 200
CONFIG = """\
version: 1
neon:
  project_id: {project_id}
targets:
  shop: {{ provider: vercel, project: shop }}
branches:
  - match: main
    sync:
      - target: shop
        environment: production
        vars: {{ DATABASE_URL: pooled }}
  - match: "preview/{{name}}"
    sync:
      - target: shop
        environment: preview
        git_branch: "{{name}}"
        vars: {{ DATABASE_URL: pooled, DIRECT_URL: direct }}
"""


class World:
    def __init__(self, tmp_path: Path, urls: dict[str, str], neon: NeonEmulator, project: str):
        self.neon, self.project = neon, project
        self.config = tmp_path / "neon-sync.yaml"
        self.env = {
            "NEON_API_HOST": urls["neon"] + "/api/v2", "NEON_API_KEY": "k",
            "VERCEL_API_URL": urls["vercel"], "VERCEL_TOKEN": "vt_batch",
        }  # fmt: skip

    def sync(self, *, prune: bool = False, force: bool = False) -> None:
        with open_run(str(self.config), self.env, sleep=lambda _s: None) as run:
            outcome = run.sync(prune=prune, force=force)
        assert outcome.errors == {}


@pytest.fixture
def vercel() -> VercelEmulator:
    emu = VercelEmulator(token="vt_batch")
    emu.add_project("shop")
    return emu


@pytest.fixture
def world(
    request: pytest.FixtureRequest, tmp_path: Path, vercel: VercelEmulator
) -> Iterator[World]:
    neon = NeonEmulator(api_key="k", seed=3)
    project = neon.add_project("batch-project", name="batch")
    for index in range(getattr(request, "param", BRANCHES)):
        neon.add_branch(project, f"preview/b{index:03d}", parent="main")
    with ExitStack() as stack:
        urls = {
            "neon": stack.enter_context(serve(neon.handle)),
            "vercel": stack.enter_context(serve(vercel.handle)),
        }
        found = World(tmp_path, urls, neon, project)
        found.config.write_text(CONFIG.format(project_id=project))
        yield found


def test_200_preview_branches_are_created_with_one_write_request(
    world: World, vercel: VercelEmulator
) -> None:
    world.sync()
    assert [(w.method, w.path) for w in vercel.writes] == [("POST", "/v10/projects/shop/env")]
    held = {(e["key"], e.get("gitBranch") or "") for e in vercel.envs("shop")}
    assert len(held) == 2 * BRANCHES + 1
    assert ("DIRECT_URL", "b199") in held and ("DATABASE_URL", "") in held
    password = world.neon.password(world.project, "preview/b042", "neondb_owner")
    b042 = [e for e in vercel.envs("shop") if e.get("gitBranch") == "b042"]
    assert all(password in e["value"] for e in b042)


@pytest.mark.parametrize("world", [30], indirect=True)
def test_noop_run_after_the_batch_writes_nothing(world: World, vercel: VercelEmulator) -> None:
    world.sync()
    vercel.log.clear()
    world.sync()
    assert vercel.writes == []


@pytest.mark.parametrize("world", [30], indirect=True)
def test_pruning_every_deleted_preview_is_one_delete_request(
    world: World, vercel: VercelEmulator
) -> None:
    world.sync()
    for index in range(30):
        world.neon.remove_branch(world.project, f"preview/b{index:03d}")
    vercel.log.clear()
    world.sync(prune=True, force=True)  # 30 of 31 owned keys: past the prune guard's limits
    assert [(w.method, w.path) for w in vercel.writes] == [("DELETE", "/v1/projects/shop/env")]
    assert [e["key"] for e in vercel.envs("shop")] == ["DATABASE_URL"]


@pytest.mark.parametrize("world", [30], indirect=True)
def test_changed_passwords_of_many_branches_are_one_upsert(
    world: World, vercel: VercelEmulator
) -> None:
    world.sync()
    for index in (3, 17, 29):
        branch = f"preview/b{index:03d}"
        world.neon.set_password(world.project, branch, "neondb_owner", f"npg_New_{index}_Pw")
    vercel.log.clear()
    world.sync()
    assert len(vercel.writes) == 1
    assert sorted(item["gitBranch"] for item in vercel.writes[0].body) == [
        "b003", "b003", "b017", "b017", "b029", "b029",
    ]  # fmt: skip
