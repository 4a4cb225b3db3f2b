"""Targets are read while Neon is still revealing passwords (the scopes are known first), so
a run over many branches does not add the targets' latency to Neon's rate-limited reveals."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from neon_sync.emulators.neon import NeonEmulator
from neon_sync.emulators.vercel import VercelEmulator
from neon_sync.engine.run import open_run
from tests.conftest import in_process

CONFIG = """\
version: 1
neon:
  project_id: {project_id}
targets:
  shop: {{ provider: vercel, project: shop }}
branches:
  - match: "preview/{{name}}"
    sync:
      - target: shop
        environment: preview
        git_branch: "{{name}}"
        vars: {{ DATABASE_URL: pooled }}
"""


def test_targets_are_read_before_the_last_password_is_revealed(tmp_path: Path) -> None:
    neon = NeonEmulator(api_key="k", seed=4)
    project = neon.add_project("prefetch-project", name="prefetch")
    for index in range(5):
        neon.add_branch(project, f"preview/p{index}", parent="main")
    vercel = VercelEmulator(token="vt_p")
    vercel.add_project("shop")
    listed = threading.Event()
    held_back: list[bool] = []

    def neon_app(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/reveal_password"):
            # Every reveal waits for Vercel's listing: only an early read lets them finish.
            held_back.append(listed.wait(timeout=5))
        return neon.handle(request)

    def vercel_app(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            listed.set()
        return vercel.handle(request)

    transport, env = in_process(neon=neon_app, vercel=vercel_app)
    env.update(NEON_API_KEY="k", VERCEL_TOKEN="vt_p")
    (tmp_path / "neon-sync.yaml").write_text(CONFIG.format(project_id=project))
    config = str(tmp_path / "neon-sync.yaml")
    with open_run(config, env, transport=transport, sleep=lambda _s: None) as run:
        outcome = run.sync()
    assert outcome.errors == {}
    assert held_back == [True] * 5
    assert [entry.method for entry in vercel.log] == ["GET", "POST"]  # read once, early
    assert len(vercel.envs("shop")) == 5
