"""`neon-sync sync` over loopback against the Neon and GitHub emulators, configured only by
env (GITHUB_API_URL, GITHUB_TOKEN, NEON_API_HOST, NEON_API_KEY)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from neon_sync.emulators.github import GitHubEmulator
from neon_sync.emulators.server import serve
from tests.conftest import NEON_KEY, Result, SeededNeon, Served, Violations
from tests.test_github_emulator import spec_checked

TOKEN = "ghp_e2e_token_8912"
PREVIEW = "preview-feature-login"
CONFIG = """\
version: 1
neon:
  project_id: {project_id}
targets:
  repo:
    provider: github
    repository: acme/shop
branches:
  - match: main
    sync:
      - target: repo
        vars:
          DATABASE_URL: direct
          PGHOST: {{ value: "{{host}}", secret: false }}
  - match: "preview/{{name}}"
    sync:
      - target: repo
        environment: "preview-{{name}}"
        vars: {{ DATABASE_URL: pooled, DIRECT_URL: direct }}
"""


@pytest.fixture
def github() -> GitHubEmulator:
    emu = GitHubEmulator(token=TOKEN)
    emu.add_repo("acme/shop")
    return emu


@pytest.fixture
def github_url(github: GitHubEmulator, violations: Violations) -> Iterator[str]:
    with serve(violations.guard(spec_checked(github.handle))) as url:
        yield url


@pytest.fixture
def env(neon_served: Served, github_url: str) -> dict[str, str]:
    return {
        "NEON_API_HOST": neon_served.url,
        "NEON_API_KEY": NEON_KEY,
        "GITHUB_API_URL": github_url,
        "GITHUB_TOKEN": TOKEN,
    }


@pytest.fixture
def sync(
    neon: SeededNeon,
    env: dict[str, str],
    write_config: Callable[[str], Path],
    run_cli: Callable[..., Result],
) -> Callable[..., Result]:
    write_config(CONFIG.format(project_id=neon.project_id))

    def run(*args: str, expect: int = 0, **extra: str) -> Result:
        result = run_cli("sync", *args, env={**env, **extra})
        assert TOKEN not in result.output and NEON_KEY not in result.output
        assert result.exit_code == expect, result.output
        return result

    return run


def password(neon: SeededNeon, branch: str) -> str:
    return neon.password(neon.project_id, branch, "neondb_owner")


def held(github: GitHubEmulator) -> dict[tuple[str, str], str]:
    """(scope, name) -> plaintext of every secret and variable GitHub holds."""
    out = {}
    repo = github.repos["acme/shop"]
    places = {"repo": repo.place} | {e.name: e.place for e in repo.environments.values()}
    for scope, place in places.items():
        out.update({(scope, name): item.value for name, item in place.secrets.items()})
        out.update({(scope, f"var:{n}"): item.value for n, item in place.variables.items()})
    return out


def stamps(github: GitHubEmulator) -> dict[tuple[str, str], str]:
    repo = github.repos["acme/shop"]
    places = {"repo": repo.place} | {e.name: e.place for e in repo.environments.values()}
    return {(s, n): i.updated_at for s, p in places.items() for n, i in p.secrets.items()}


def test_first_sync_leaves_exactly_the_configured_secrets_and_variables(
    sync: Callable[..., Result], github: GitHubEmulator, neon: SeededNeon
) -> None:
    result = sync()
    found = held(github)
    assert set(found) == {
        ("repo", "DATABASE_URL"),
        ("repo", "var:PGHOST"),
        (PREVIEW, "DATABASE_URL"),
        (PREVIEW, "DIRECT_URL"),
    }
    main, preview = password(neon, "main"), password(neon, "preview/feature-login")
    assert found[("repo", "DATABASE_URL")].startswith("postgresql://neondb_owner:")
    assert main in found[("repo", "DATABASE_URL")]
    assert "-pooler" not in found[("repo", "DATABASE_URL")]
    assert found[("repo", "var:PGHOST")] in found[("repo", "DATABASE_URL")]
    assert preview in found[(PREVIEW, "DATABASE_URL")]
    assert "-pooler" in found[(PREVIEW, "DATABASE_URL")]
    assert "-pooler" not in found[(PREVIEW, "DIRECT_URL")]
    assert github.environment_names("acme/shop") == [PREVIEW]
    assert main not in result.output and preview not in result.output


def test_second_run_makes_no_write_request(
    sync: Callable[..., Result], github: GitHubEmulator
) -> None:
    sync()
    github.log.clear()
    sync()
    assert github.writes == []
    assert not any(entry.path.endswith("/public-key") for entry in github.log)


def test_secret_changed_by_someone_else_is_put_back(
    sync: Callable[..., Result], github: GitHubEmulator
) -> None:
    sync()
    good = held(github)
    github.set_secret("acme/shop", "DIRECT_URL", "postgresql://someone:else@x/db", PREVIEW)
    github.log.clear()
    sync()
    assert held(github) == good
    assert [(e.method, e.path.rsplit("/", 1)[-1]) for e in github.writes] == [("PUT", "DIRECT_URL")]


def test_neon_password_reset_rewrites_every_affected_secret_only(
    sync: Callable[..., Result], github: GitHubEmulator, neon: SeededNeon
) -> None:
    sync()
    before = stamps(github)
    neon.set_password(neon.project_id, "main", "neondb_owner", "npg_Reset_Secret_77")
    result = sync()
    after = stamps(github)
    assert "npg_Reset_Secret_77" in held(github)[("repo", "DATABASE_URL")]
    assert "npg_Reset_Secret_77" not in result.output
    assert {k for k in after if after[k] != before[k]} == {("repo", "DATABASE_URL")}


def test_prune_removes_the_deleted_branchs_secrets_only(
    sync: Callable[..., Result], github: GitHubEmulator, neon: SeededNeon
) -> None:
    sync()
    github.set_secret("acme/shop", "UNRELATED", "keep me", PREVIEW)
    neon.remove_branch(neon.project_id, "preview/feature-login")
    github.log.clear()
    sync("--prune")
    assert set(held(github)) == {
        ("repo", "DATABASE_URL"),
        ("repo", "var:PGHOST"),
        (PREVIEW, "UNRELATED"),
    }
    assert {entry.method for entry in github.writes} == {"DELETE"}


def test_prune_deletes_an_environment_neon_sync_created_once_it_is_empty(
    sync: Callable[..., Result], github: GitHubEmulator, neon: SeededNeon
) -> None:
    sync()
    assert github.environment_names("acme/shop") == [PREVIEW]
    neon.remove_branch(neon.project_id, "preview/feature-login")
    plan = json.loads(sync("--prune", "--dry-run", "--json").stdout)
    assert {(c["key"], c["action"]) for c in plan["changes"] if c["scope"].startswith("env:")} == {
        ("DATABASE_URL", "delete"),
        ("DIRECT_URL", "delete"),
        ("*", "delete"),
    }
    sync("--prune")
    assert github.environment_names("acme/shop") == []
    github.log.clear()
    sync("--prune")
    assert github.writes == []


def test_prune_keeps_an_environment_that_was_there_before(
    sync: Callable[..., Result], github: GitHubEmulator, neon: SeededNeon
) -> None:
    github.add_environment("acme/shop", PREVIEW)
    sync()
    neon.remove_branch(neon.project_id, "preview/feature-login")
    sync("--prune")
    assert github.environment_names("acme/shop") == [PREVIEW]
    assert set(held(github)) == {("repo", "DATABASE_URL"), ("repo", "var:PGHOST")}


def test_ci_run_without_local_state_rewrites_nothing(
    sync: Callable[..., Result], github: GitHubEmulator, neon: SeededNeon, tmp_path: Path
) -> None:
    sync(GITHUB_ACTIONS="true", GITHUB_REPOSITORY="acme/shop")
    assert not (tmp_path / ".neon-sync" / "state.json").exists()
    state = github.variable_value("acme/shop", "NEON_SYNC_STATE")
    assert state is not None and password(neon, "main") not in state
    assert {r["key"] for r in json.loads(state)["records"]} >= {"DATABASE_URL", "DIRECT_URL"}
    github.log.clear()
    sync(GITHUB_ACTIONS="true", GITHUB_REPOSITORY="acme/shop")
    assert github.writes == []


def test_workflow_token_fails_with_the_permissions_to_grant(
    sync: Callable[..., Result], github: GitHubEmulator
) -> None:
    github.workflow_token = True
    result = sync(expect=1)
    assert "Resource not accessible by integration" in result.output
    assert "Secrets, Variables and Environments" in result.output
    assert github.writes == []
