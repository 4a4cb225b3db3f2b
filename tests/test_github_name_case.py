"""GitHub names in any case: a config's `database_url` is GitHub's DATABASE_URL, written
upper-case, compared case-insensitively (no write when the value already matches)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from neon_sync.emulators.github import GitHubEmulator
from tests.conftest import Result, SeededNeon
from tests.test_github_e2e import CONFIG, env, github, github_url, held, password

__all__ = ["env", "github", "github_url"]

LOWER = CONFIG.replace("DATABASE_URL: direct", "database_url: direct").replace(
    'PGHOST: {{ value: "{{host}}", secret: false }}',
    'pghost: {{ value: "{{host}}", secret: false }}',
)
Cli = Callable[..., Result]


@pytest.fixture
def cli(
    neon: SeededNeon,
    env: dict[str, str],
    write_config: Callable[..., Path],
    run_cli: Cli,
) -> Callable[[str, str], Result]:
    """Run one command with `config` (CONFIG or LOWER) in place."""

    def run(config: str, *args: str) -> Result:
        write_config(config.format(project_id=neon.project_id))
        return run_cli(*args, env=env)

    return run


def test_lower_case_names_are_written_upper_case_and_then_left_alone(
    cli: Cli, neon: SeededNeon, github: GitHubEmulator
) -> None:
    assert cli(CONFIG, "sync").exit_code == 0
    before = held(github)
    github.log.clear()
    plan = cli(LOWER, "plan", "--json")
    assert plan.exit_code == 0, plan.output
    assert '"action": "noop"' in plan.stdout and "database_url" not in plan.stdout
    result = cli(LOWER, "sync")
    assert result.exit_code == 0, result.output
    assert github.writes == []
    assert held(github) == before
    assert password(neon, "main") in before[("repo", "DATABASE_URL")]


def test_a_lower_case_name_creates_the_upper_case_secret(cli: Cli, github: GitHubEmulator) -> None:
    result = cli(LOWER, "sync")
    assert result.exit_code == 0, result.output
    assert ("repo", "DATABASE_URL") in held(github) and ("repo", "var:PGHOST") in held(github)
    assert "DATABASE_URL" in result.stdout
