"""Two CI jobs saving neon-sync's state in one GitHub variable at nearly the same time: the
run reads the variable back after saving and merges again when another job's save landed in
between, so neither job's records are lost."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx

from neon_sync.emulators.github import GitHubEmulator
from neon_sync.emulators.server import serve
from tests.conftest import NEON_KEY, Result, SeededNeon, Served

TOKEN = "ghp_race_token_77"
CONFIG = """\
version: 1
neon: {{ project_id: {project_id} }}
targets:
  repo: {{ provider: github, repository: acme/shop }}
branches:
  - match: main
    sync:
      - {{ target: repo, vars: {{ DATABASE_URL: direct }} }}
"""
OTHER_JOB = {
    "target": "repo",
    "scope": "env:acme/shop/preview-pr-7",
    "key": "DATABASE_URL",
    "fingerprint": "0" * 32,
    "branch": "preview/pr-7",
    "marker": None,
    "options": {"repository": "acme/shop", "environment": "preview-pr-7"},
}


def test_a_save_racing_another_jobs_save_keeps_both_jobs_records(
    neon: SeededNeon,
    neon_served: Served,
    write_config: Callable[[str], Path],
    run_cli: Callable[..., Result],
) -> None:
    github = GitHubEmulator(token=TOKEN)
    github.add_repo("acme/shop")
    raced: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        response = github.handle(request)
        saving = request.method in ("POST", "PATCH") and "/variables" in request.url.path
        if saving and b"NEON_SYNC_STATE" in request.content and not raced:
            # Another job saves right after us, from what it read before our save.
            raced.append(request.method)
            doc = {"version": 1, "records": [OTHER_JOB]}
            github.set_variable("acme/shop", "NEON_SYNC_STATE", json.dumps(doc))
        return response

    write_config(CONFIG.format(project_id=neon.project_id))
    with serve(handle) as url:
        env = {
            "NEON_API_HOST": neon_served.url,
            "NEON_API_KEY": NEON_KEY,
            "GITHUB_API_URL": url,
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_ACTIONS": "true",
            "GITHUB_REPOSITORY": "acme/shop",
        }
        result = run_cli("sync", env=env)
    assert result.exit_code == 0, result.output
    assert raced
    value = github.variable_value("acme/shop", "NEON_SYNC_STATE")
    assert value is not None
    records = {(r["scope"], r["branch"]) for r in json.loads(value)["records"]}
    assert records == {("repo:acme/shop", "main"), ("env:acme/shop/preview-pr-7", "preview/pr-7")}
    saves = [
        e for e in github.log if e.method in ("POST", "PATCH") and "STATE" in e.path + str(e.body)
    ]
    assert len(saves) == 2  # ours, then ours again merged onto the other job's
