"""GitHub allows 500 content-creating requests an hour: a run that needs more is refused up
front (plan says so, sync writes nothing there) instead of stalling and failing half-way."""

from __future__ import annotations

from pathlib import Path

import httpx

from neon_sync.emulators.github import GitHubEmulator
from neon_sync.emulators.neon import NeonEmulator
from neon_sync.engine.run import open_run
from neon_sync.providers.github.api import Pacer
from tests.conftest import in_process

NO_WAIT = lambda _s: None  # noqa: E731  (nothing here enforces limits: do not pace)
CONFIG = """\
version: 1
neon:
  project_id: {project_id}
targets:
  repo: {{ provider: github, repository: acme/shop }}
  local: {{ provider: dotenv, path: .env }}
branches:
  - match: main
    sync:
      - target: local
        vars: {{ DATABASE_URL: pooled }}
  - match: "preview/{{name}}"
    sync:
      - target: repo
        environment: "preview-{{name}}"
        vars: {{ DATABASE_URL: pooled, DIRECT_URL: direct }}
"""


def world(
    tmp_path: Path, previews: int
) -> tuple[GitHubEmulator, dict[str, str], httpx.BaseTransport]:
    neon = NeonEmulator(api_key="k", seed=5)
    project = neon.add_project("budget-project", name="budget")
    for index in range(previews):
        neon.add_branch(project, f"preview/p{index:03d}", parent="main")
    github = GitHubEmulator(token="ghp_budget")
    github.add_repo("acme/shop")
    transport, env = in_process(neon=neon.handle, github=github.handle)
    (tmp_path / "neon-sync.yaml").write_text(CONFIG.format(project_id=project))
    return github, {**env, "NEON_API_KEY": "k", "GITHUB_TOKEN": "ghp_budget"}, transport


def test_plan_reports_a_run_over_githubs_hourly_budget(tmp_path: Path) -> None:
    # 170 new environments, each created (1 PUT) with two secrets (2 PUTs): 510 writes.
    github, env, transport = world(tmp_path, 170)
    with open_run(str(tmp_path / "neon-sync.yaml"), env, transport=transport, sleep=NO_WAIT) as run:
        plan = run.plan()
    why = plan.errors["repo"]
    assert "510 content-creating GitHub requests" in why
    assert "500 an hour" in why and "--branch" in why
    assert "local" not in plan.errors
    assert github.writes == []


def test_sync_over_the_budget_writes_nothing_there_and_the_rest_as_usual(tmp_path: Path) -> None:
    github, env, transport = world(tmp_path, 170)
    with open_run(str(tmp_path / "neon-sync.yaml"), env, transport=transport, sleep=NO_WAIT) as run:
        outcome = run.sync()
    assert "500 an hour" in outcome.errors["repo"]
    assert github.writes == []
    assert (tmp_path / ".env").read_text().startswith("DATABASE_URL=")


def test_a_run_within_the_budget_is_not_held_back(tmp_path: Path) -> None:
    # 166 environments x 3 writes = 498: under 500.
    _, env, transport = world(tmp_path, 166)
    with open_run(str(tmp_path / "neon-sync.yaml"), env, transport=transport, sleep=NO_WAIT) as run:
        assert "repo" not in run.plan().errors


def test_writes_are_paced_under_80_a_minute_and_500_an_hour() -> None:
    now = [0.0]
    sent: list[float] = []

    def sleep(seconds: float) -> None:
        now[0] += seconds

    pacer = Pacer(lambda: now[0], sleep)
    for _ in range(501):
        pacer.take()
        sent.append(now[0])
    per_minute = max(sum(1 for t in sent if start <= t < start + 60) for start in sent)
    assert per_minute <= 80
    assert sent[499] < 3600 <= sent[500]  # the 501st waits for the first to leave the hour
