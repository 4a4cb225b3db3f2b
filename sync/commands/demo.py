"""`neon-sync demo`: the example config, end to end, against emulators on loopback.
No account, no network: a seeded Neon project, and GitHub and Vercel stand-ins."""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from neon_sync.emulators.base import Emulator
from neon_sync.emulators.neon import NeonEmulator
from neon_sync.emulators.server import serve
from neon_sync.engine.run import open_run
from neon_sync.render import console as output
from neon_sync.render.plan import PlanTable, Report

KEYS = {"neon": "demo-neon-key", "github": "ghp_demo_token", "vercel": "demo_vercel_token"}


def _emulators() -> dict[str, Emulator]:
    """The Neon emulator, plus GitHub's and Vercel's where this version bundles them."""
    neon = NeonEmulator(api_key=KEYS["neon"])
    found: dict[str, Emulator] = {"neon": neon}
    try:
        from neon_sync.emulators.github import GitHubEmulator

        github = GitHubEmulator(token=KEYS["github"])
        github.add_repo("acme/shop")
        found["github"] = github
    except ImportError:
        pass
    try:
        from neon_sync.emulators.vercel import VercelEmulator

        vercel = VercelEmulator(token=KEYS["vercel"])
        vercel.add_project("shop", team="team_acme")
        found["vercel"] = vercel
    except ImportError:
        pass
    return found


@contextmanager
def _folder(keep: str | None) -> Iterator[Path]:
    if keep:
        path = Path(keep)
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="neon-sync-demo-") as tmp:
        yield Path(tmp)


def run_demo(keep: str | None = None, postgres: bool = False) -> bool:
    """Run the demo; with `postgres`, end with `check` against a local server. True if all
    went well."""
    emulators = _emulators()
    assert isinstance(emulators["neon"], NeonEmulator)
    project_id = emulators["neon"].seed_demo()
    with ExitStack() as stack, _folder(keep) as folder:
        urls = {name: stack.enter_context(serve(emu.handle)) for name, emu in emulators.items()}
        env = {
            "NEON_API_HOST": urls["neon"] + "/api/v2",
            "NEON_API_KEY": KEYS["neon"],
            "NEON_PROJECT_ID": project_id,
        }
        if "github" in urls:
            env |= {"GITHUB_API_URL": urls["github"], "GITHUB_TOKEN": KEYS["github"]}
        if "vercel" in urls:
            env |= {"VERCEL_API_URL": urls["vercel"], "VERCEL_TOKEN": KEYS["vercel"]}
        config = folder / "neon-sync.yaml"
        with resources.as_file(resources.files("neon_sync.config") / "example.yaml") as example:
            shutil.copyfile(example, config)
        output.heading(f"Neon emulator: project {project_id}; config {config}")
        with open_run(str(config), env) as run:
            plan = run.plan()
            output.heading("neon-sync plan")
            _show(Report.of_plan(plan))
            outcome = run.sync()
            output.heading("neon-sync sync")
            _show(Report.of_outcome(outcome))
            again = run.sync()
            output.heading("neon-sync sync (again: nothing to do)")
            _show(Report.of_outcome(again))
        output.heading("What the targets hold now (masked)")
        for env_file in sorted(folder.glob(".env*")):
            output.show_file(env_file)
        if "github" in emulators:
            output.show_rows(
                "GitHub acme/shop (decrypted by the emulator)", _github_rows(emulators["github"])
            )
        if "vercel" in emulators:
            output.show_rows("Vercel project shop", _vercel_rows(emulators["vercel"]))
        writes = sum(len(emu.writes) for emu in emulators.values())
        output.note(f"{writes} write requests reached the emulators in all")
        if postgres:
            # Imported here: plain `demo` stays fast and needs neither psycopg nor a server.
            from neon_sync.commands.demo_postgres import check_demo

            return check_demo(emulators["neon"], project_id, str(config), env)
    return True


def _github_rows(emu: Any) -> Iterator[tuple[str, ...]]:
    for repo in emu.repos.values():
        places = [(f"repo:{repo.full_name}", repo.place)]
        places += [(f"env:{e.name}", e.place) for e in repo.environments.values()]
        for scope, place in places:
            for kind, items in (("secret", place.secrets), ("variable", place.variables)):
                for name, item in sorted(items.items()):
                    yield scope, kind, f"{name}={item.value}"


def _vercel_rows(emu: Any) -> Iterator[tuple[str, ...]]:
    for env in sorted(emu.envs("shop"), key=lambda e: (e["key"], str(e.get("gitBranch")))):
        where = "+".join(env["target"]) + (f"@{env['gitBranch']}" if env.get("gitBranch") else "")
        yield where, env["type"], f"{env['key']}={env['value']}"


def _show(report: Report) -> None:
    PlanTable().render(report, sys.stdout)
    for problem in report.problems():
        output.error(problem)
