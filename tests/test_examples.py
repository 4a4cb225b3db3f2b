"""The examples/ workflows and the watch service, run for real against the Neon, GitHub and
Vercel emulators over loopback: the `run:` steps and the `uses: OWNER/neon-sync@v1` steps
(through action.yml) of each job, with `${{ }}` expressions filled from test values, each
job in a fresh workspace holding only examples/neon-sync.yaml, as a runner's checkout would."""

from __future__ import annotations

import os
import queue
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from configparser import ConfigParser
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from neon_sync.emulators.github import GitHubEmulator
from neon_sync.emulators.server import serve
from neon_sync.emulators.vercel import VercelEmulator
from tests.conftest import NEON_KEY, SeededNeon, Served, Violations
from tests.test_github_emulator import spec_checked
from tests.workflow_runner import EXAMPLES, OUR_ACTION, SKIPPED_ACTIONS, JobRun, Runner, load

GH_TOKEN = "github_pat_examples_5521"
VERCEL_TOKEN = "vt_examples_8812"
TEAM = "team_acme"
PR, HEAD = 42, "feature/login"
NEON_BRANCH = f"preview/pr-{PR}/{HEAD}"
WORKFLOWS = sorted(EXAMPLES.glob("*.yml"))
UNIT = EXAMPLES / "neon-sync-watch.service"


@dataclass
class World:
    neon: SeededNeon
    github: GitHubEmulator
    vercel: VercelEmulator
    env: dict[str, str]  # what the runner itself provides
    settings: dict[str, str]  # secrets.* and vars.* of the repository
    tmp: Path

    @property
    def project_id(self) -> str:
        return str(self.neon.project_id)

    def run(self, workflow: str, job: str, **event: str) -> JobRun:
        """One job, in a fresh workspace: nothing carries over between jobs but the services."""
        workspace = self.tmp / f"ws-{len(list(self.tmp.glob('ws-*')))}"
        workspace.mkdir()
        shutil.copy(EXAMPLES / "neon-sync.yaml", workspace / "neon-sync.yaml")
        temp = workspace.with_name(workspace.name + "-temp")
        temp.mkdir()
        context = {**self.settings, "github.repository": "acme/shop", **event}
        runner = Runner(workspace, self.env, context, temp)
        result = runner.run_job(load(EXAMPLES / workflow), job)
        assert not (workspace / ".neon-sync").exists()  # state lives in GitHub, not the runner
        return result

    def password(self, branch: str) -> str:
        return self.neon.password(self.project_id, branch, "neondb_owner")

    def host(self, branch: str) -> str:
        return str(self.neon.endpoint(self.project_id, branch)["host"])

    def neon_branches(self) -> list[str]:
        with self.neon.lock:
            project = self.neon.project_row(self.project_id)
            return sorted(branch.name for branch in project.branches.values())

    def vercel_values(self) -> dict[tuple[str, str, str], str]:
        """(key, environments, git branch) -> value."""
        return {
            (e["key"], "+".join(sorted(e["target"])), e.get("gitBranch") or ""): e["value"]
            for e in self.vercel.envs("shop")
        }

    def github_secrets(self) -> dict[tuple[str, str], str]:
        """(environment or "repo", name) -> plaintext."""
        repo = self.github.repos["acme/shop"]
        places = {"repo": repo.place} | {e.name: e.place for e in repo.environments.values()}
        return {
            (scope, name): item.value
            for scope, place in places.items()
            for name, item in place.secrets.items()
        }


def pull_request(action: str, head_repo: str = "acme/shop") -> dict[str, str]:
    return {
        "github.event.action": action,
        "github.event.number": str(PR),
        "github.head_ref": HEAD,
        "github.event.pull_request.head.repo.full_name": head_repo,
    }


def instant_operations(neon: SeededNeon, monkeypatch: pytest.MonkeyPatch) -> None:
    """Neon's operations finish at once: the CLI runs in a subprocess, where no fake sleep
    reaches its waits (tests of sync.lifecycle cover the waiting)."""
    make = neon.new_operation

    def finished(*args: Any, **kwargs: Any) -> Any:
        op = make(*args, **kwargs)
        op.status = "finished"
        return op

    monkeypatch.setattr(neon, "new_operation", finished)


@pytest.fixture
def github_url(violations: Violations) -> Iterator[tuple[GitHubEmulator, str]]:
    github = GitHubEmulator(token=GH_TOKEN)
    github.add_repo("acme/shop")
    with serve(violations.guard(spec_checked(github.handle))) as url:
        yield github, url


@pytest.fixture
def world(
    neon: SeededNeon,
    neon_served: Served,
    github_url: tuple[GitHubEmulator, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    instant_operations(neon, monkeypatch)
    github, gh_url = github_url
    vercel = VercelEmulator(token=VERCEL_TOKEN)
    vercel.add_project("shop", team=TEAM)
    venv = Path(sys.prefix)
    assert (venv / "bin" / "neon-sync").exists(), "run the tests from neon-sync's venv"
    with serve(vercel.handle) as vercel_url:
        env = {
            "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": str(tmp_path),
            "LANG": "C.UTF-8",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_REPOSITORY": "acme/shop",
            "GITHUB_API_URL": gh_url,
            # Test-only: where the emulators are, and the venv the action uses as installed.
            "NEON_API_HOST": neon_served.url,
            "VERCEL_API_URL": vercel_url,
            "NEON_SYNC_VENV": str(venv),
        }
        settings = {
            "secrets.NEON_API_KEY": NEON_KEY,
            "secrets.GH_ADMIN_TOKEN": GH_TOKEN,
            "secrets.VERCEL_TOKEN": VERCEL_TOKEN,
            "vars.NEON_PROJECT_ID": str(neon.project_id),
            "vars.VERCEL_TEAM_ID": TEAM,
        }
        yield World(neon, github, vercel, env, settings, tmp_path)


def secret_lines(log: str, secret: str) -> list[str]:
    """Lines showing `secret` other than the runner's own ::add-mask:: commands."""
    return [line for line in log.splitlines() if secret in line and "::add-mask::" not in line]


# -- the files themselves --------------------------------------------------------------------


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_example_workflow_runs_only_steps_the_tests_can_run(path: Path) -> None:
    workflow = load(path)
    assert workflow["name"] and workflow["on"] and workflow["jobs"]
    assert workflow["permissions"] == {"contents": "read"}
    for job in workflow["jobs"].values():
        assert job["runs-on"] == "ubuntu-latest"
        uses = [str(step["uses"]) for step in job["steps"] if "uses" in step]
        assert uses[0].startswith("actions/checkout@")  # neon-sync.yaml comes from the repo
        assert all(OUR_ACTION.fullmatch(u) or u.startswith(SKIPPED_ACTIONS) for u in uses)
        for step in job["steps"]:
            if OUR_ACTION.fullmatch(str(step.get("uses", ""))):
                # Never the workflow's own token: it cannot write secrets or variables.
                assert step["env"]["GITHUB_TOKEN"] == "${{ secrets.GH_ADMIN_TOKEN }}"
            if "run" in step:
                assert "${{" not in step["run"], "pass expressions through env: injection"


def test_preview_workflow_runs_for_the_pull_request_events_it_handles() -> None:
    on = load(EXAMPLES / "preview.yml")["on"]
    assert set(on["pull_request"]["types"]) == {"opened", "reopened", "synchronize", "closed"}


def test_watch_unit_runs_watch_with_prune_stops_by_sigterm_and_stays_down_on_exit_2() -> None:
    unit = ConfigParser(interpolation=None, strict=True)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read(UNIT, encoding="utf-8")
    service = unit["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[1] == "watch" and "--prune" in argv and "--interval" in argv
    assert service["KillSignal"] == "SIGTERM" and service["RestartPreventExitStatus"] == "2"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


# -- the pull-request preview flow -----------------------------------------------------------


def test_opened_pull_request_gets_a_branch_whose_urls_reach_its_vercel_preview_and_environment(
    world: World,
) -> None:
    run = world.run("preview.yml", "preview", **pull_request("opened"))
    assert run.status == 0, run.log
    assert NEON_BRANCH in world.neon_branches()
    password, host = world.password(NEON_BRANCH), world.host(NEON_BRANCH)
    pooled = host.replace(".", "-pooler.", 1)
    vercel = world.vercel_values()
    assert set(vercel) == {
        ("DATABASE_URL", "preview", HEAD),
        ("DATABASE_URL_UNPOOLED", "preview", HEAD),
    }
    assert password in vercel[("DATABASE_URL", "preview", HEAD)]
    assert f"@{pooled}/" in vercel[("DATABASE_URL", "preview", HEAD)]
    assert f"@{host}/" in vercel[("DATABASE_URL_UNPOOLED", "preview", HEAD)]
    secrets = world.github_secrets()
    assert set(secrets) == {(f"pr-{PR}", "DATABASE_URL")}
    assert f":{password}@{host}/" in secrets[(f"pr-{PR}", "DATABASE_URL")]
    branch_id = str(world.neon.branch(world.project_id, NEON_BRANCH)["id"])
    assert run.step("neon").outputs["branch_id"] == branch_id
    assert f"Neon branch {branch_id} serves this pull request." in run.summary
    assert password not in run.summary and secret_lines(run.log, password) == []


def test_push_to_the_pull_request_reuses_its_branch_and_writes_nothing(world: World) -> None:
    assert world.run("preview.yml", "preview", **pull_request("opened")).status == 0
    world.github.log.clear()
    world.vercel.log.clear()
    run = world.run("preview.yml", "preview", **pull_request("synchronize"))
    assert run.status == 0, run.log
    assert world.neon_branches().count(NEON_BRANCH) == 1
    assert world.github.writes == [] and world.vercel.writes == []


def test_closed_pull_request_loses_its_values_and_its_branch_and_a_rerun_succeeds(
    world: World,
) -> None:
    assert world.run("preview.yml", "preview", **pull_request("opened")).status == 0
    assert world.run("preview.yml", "preview", **pull_request("closed")).skipped
    run = world.run("preview.yml", "cleanup", **pull_request("closed"))
    assert run.status == 0, run.log
    assert NEON_BRANCH not in world.neon_branches()
    assert "main" in world.neon_branches()
    assert world.vercel_values() == {}
    assert world.github_secrets() == {}
    assert f"pr-{PR}" not in world.github.environment_names("acme/shop")
    rerun = world.run("preview.yml", "cleanup", **pull_request("closed"))  # "Re-run jobs"
    assert rerun.status == 0, rerun.log


def redeploys(world: World) -> list[str]:
    return [e.body["deploymentId"] for e in world.vercel.writes if e.path == "/v13/deployments"]


def test_preview_deployed_before_its_branch_existed_is_redeployed_with_the_values(
    world: World,
) -> None:
    built = world.vercel.add_deployment("shop", None, branch=HEAD)  # Vercel raced the workflow
    assert world.run("preview.yml", "preview", **pull_request("opened")).status == 0
    assert redeploys(world) == [built]


def test_closing_does_not_redeploy_the_closed_pull_requests_preview(world: World) -> None:
    world.vercel.add_deployment("shop", None, branch=HEAD)
    assert world.run("preview.yml", "preview", **pull_request("opened")).status == 0
    world.vercel.log.clear()
    assert world.run("preview.yml", "cleanup", **pull_request("closed")).status == 0
    assert redeploys(world) == []


def test_pull_request_from_a_fork_runs_nothing(world: World) -> None:
    for action, job in (("opened", "preview"), ("closed", "cleanup")):
        assert world.run("preview.yml", job, **pull_request(action, "someone/shop")).skipped
    assert world.neon.log == [] and world.github.log == [] and world.vercel.log == []


# -- the safety net and the watcher ----------------------------------------------------------


def test_scheduled_sync_writes_production_and_prunes_an_expired_preview(world: World) -> None:
    assert world.run("preview.yml", "preview", **pull_request("opened")).status == 0
    world.neon.remove_branch(world.project_id, NEON_BRANCH)
    run = world.run("scheduled-sync.yml", "sync")
    assert run.status == 0, run.log
    main = world.password("main")
    vercel = world.vercel_values()
    assert set(vercel) == {
        ("DATABASE_URL", "production", ""),
        ("DATABASE_URL_UNPOOLED", "production", ""),
    }
    assert main in vercel[("DATABASE_URL", "production", "")]
    assert set(world.github_secrets()) == {("repo", "DATABASE_URL")}
    assert secret_lines(run.log, main) == []


def test_scheduled_sync_keeps_open_previews_and_a_second_run_writes_nothing(
    world: World,
) -> None:
    assert world.run("preview.yml", "preview", **pull_request("opened")).status == 0
    preview = world.vercel_values()
    assert world.run("scheduled-sync.yml", "sync").status == 0
    assert world.vercel_values().items() >= preview.items()
    assert (f"pr-{PR}", "DATABASE_URL") in world.github_secrets()
    world.github.log.clear()
    world.vercel.log.clear()
    assert world.run("scheduled-sync.yml", "sync").status == 0
    assert world.github.writes == [] and world.vercel.writes == []


def unit_argv(world: World, config: Path) -> list[str]:
    """ExecStart, with the venv's neon-sync and a copy of the example config."""
    unit = ConfigParser(interpolation=None)
    unit.read(UNIT, encoding="utf-8")
    argv = shlex.split(unit["Service"]["ExecStart"])
    argv[0] = str(Path(sys.prefix) / "bin" / "neon-sync")
    argv[argv.index("--config") + 1] = str(config)
    return argv


def service_env(world: World) -> dict[str, str]:
    """The EnvironmentFile's settings; not inside GitHub Actions."""
    env = {k: v for k, v in world.env.items() if k not in {"GITHUB_ACTIONS", "CI"}}
    return env | {
        "NEON_API_KEY": NEON_KEY,
        "NEON_PROJECT_ID": world.project_id,
        "GITHUB_TOKEN": GH_TOKEN,
        "VERCEL_TOKEN": VERCEL_TOKEN,
        "VERCEL_TEAM_ID": TEAM,
    }


def test_watch_service_syncs_at_once_and_exits_0_on_sigterm(world: World) -> None:
    config = world.tmp / "neon-sync.yaml"
    shutil.copy(EXAMPLES / "neon-sync.yaml", config)
    process = subprocess.Popen(
        unit_argv(world, config),
        cwd=world.tmp,
        env=service_env(world),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None
    stderr = process.stderr

    def read() -> None:
        for line in stderr:
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        while not any("created DATABASE_URL_UNPOOLED in web" in line for line in seen):
            seen.append(lines.get(timeout=30))
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        process.wait()
    reader.join(timeout=5)
    while not lines.empty():
        seen.append(lines.get())
    assert ("DATABASE_URL_UNPOOLED", "production", "") in world.vercel_values()
    assert any(line.startswith("stopped after 1 poll") for line in seen), seen
    assert not any(world.password("main") in line for line in seen)


def test_watch_service_with_a_broken_config_exits_2_so_systemd_does_not_restart_it(
    world: World,
) -> None:
    config = world.tmp / "neon-sync.yaml"
    config.write_text("version: 1\nneon: {project_id: x}\ntargets: {}\nbranches: 3\n")
    done = subprocess.run(
        unit_argv(world, config),
        cwd=world.tmp,
        env=service_env(world),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2, done.stderr


def test_workflow_helpers_cover_every_example() -> None:
    assert {p.name for p in WORKFLOWS} == {"preview.yml", "scheduled-sync.yml"}
    assert UNIT.exists() and (EXAMPLES / "neon-sync.yaml").exists()
