"""Broken answers and unreachable settings through the CLI, with all three emulators on
loopback: one line naming the service and the route, exit 1 (API) or 2 (settings); reads are
retried on 500; a rate limit longer than a run waits stops every request to that service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from neon_sync.emulators.github import GitHubEmulator
from neon_sync.emulators.vercel import VercelEmulator
from tests.conftest import SeededNeon
from tests.test_lifecycle import (
    NAME,
    Cli,
    cli,
    github,
    github_held,
    sleeper,
    unsettled,
    vercel,
    vercel_held,
)

__all__ = ["cli", "github", "sleeper", "unsettled", "vercel"]
SIGN_IN = "<!DOCTYPE html><html><body>Sign in to continue</body></html>"


def one_line(result: Any) -> str:
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert len(lines[0]) <= 540
    return str(lines[0])


def test_neon_pagination_of_the_wrong_type_is_one_line_exit_1(cli: Cli, neon: SeededNeon) -> None:
    def stringy(body: Any) -> Any:
        return {**body, "pagination": "next-page"}

    neon.inject(200, method="GET", path=r"/branches$", mangle=stringy)
    line = one_line(cli("sync", expect=1))
    assert "Neon API: list the branches" in line
    route = f"GET /api/v2/projects/{neon.project_id}/branches"
    assert f"{route} answered an unexpected shape (pagination is str, not an object)" in line


def test_neon_null_branch_name_or_endpoint_host_is_one_line_exit_1(
    cli: Cli, neon: SeededNeon, tmp_path: Path
) -> None:
    def nameless(body: Any) -> Any:
        return {**body, "branches": [{**b, "name": None} for b in body["branches"]]}

    def hostless(body: Any) -> Any:
        return {**body, "endpoints": [{**e, "host": None} for e in body["endpoints"]]}

    neon.inject(200, method="GET", path=r"/branches$", mangle=nameless)
    assert "name is NoneType, not a non-empty string" in one_line(cli("sync", expect=1))
    neon.inject(200, method="GET", path=r"/endpoints$", mangle=hostless)
    line = one_line(cli("sync", expect=1))
    assert "Neon API: list the endpoints" in line and "host is NoneType" in line
    assert f"GET /api/v2/projects/{neon.project_id}/endpoints answered" in line
    assert not (tmp_path / ".env").exists()


def test_neon_html_page_with_200_names_the_route(cli: Cli, neon: SeededNeon) -> None:
    neon.inject(200, method="GET", path=r"/branches$", html=SIGN_IN)
    line = one_line(cli("plan", expect=1))
    assert f"GET /api/v2/projects/{neon.project_id}/branches answered text/html, not JSON" in line


def test_github_html_page_with_200_fails_that_target_only(
    cli: Cli, github: GitHubEmulator, vercel: VercelEmulator, tmp_path: Path
) -> None:
    github.inject(200, method="GET", path=r"/secrets$", html=SIGN_IN, times=20)
    result = cli("branch", "create", NAME, expect=1)
    assert "GitHub API" in result.output
    assert (
        "GET /repos/acme/shop/" in result.output and "answered text/html, not JSON" in result.output
    )
    assert github_held(github) == {}
    assert (tmp_path / ".env.pr-42").exists()  # the other targets were written
    assert {key for key, _ in vercel_held(vercel)} == {"DATABASE_URL", "DATABASE_URL_UNPOOLED"}
    assert "Traceback" not in result.output


def test_github_listing_of_the_wrong_shape_is_an_api_error(
    cli: Cli, github: GitHubEmulator
) -> None:
    github.inject(200, method="GET", path=r"/secrets$", body={"total_count": 1, "secrets": "x"})
    result = cli("sync", "-b", "main", expect=0)  # main syncs only the .env: GitHub untouched
    assert result.exit_code == 0
    result = cli("branch", "create", NAME, expect=1)
    assert "GitHub API" in result.output and "answered an unexpected shape" in result.output


def test_vercel_html_page_and_wrong_types_are_api_errors(
    cli: Cli, vercel: VercelEmulator, tmp_path: Path
) -> None:
    vercel.inject(200, method="GET", path=r"/env$", html=SIGN_IN, times=20)
    result = cli("branch", "create", NAME, expect=1)
    assert "Vercel API" in result.output
    assert "GET /v10/projects/shop/env answered text/html, not JSON" in result.output
    assert vercel_held(vercel) == {} and (tmp_path / ".env.pr-42").exists()
    vercel.faults.clear()
    vercel.inject(200, method="GET", path=r"/env$", body={"envs": [{"key": 5}]}, times=20)
    result = cli("sync", expect=1)
    assert "GET /v10/projects/shop/env answered an unexpected shape" in result.output


def test_a_single_500_on_a_read_is_retried(
    cli: Cli, neon: SeededNeon, github: GitHubEmulator, vercel: VercelEmulator
) -> None:
    neon.inject(500, method="GET", path=r"/branches$")
    github.inject(500, method="GET", path=r"/secrets$")
    vercel.inject(500, method="GET", path=r"/env$")
    cli("branch", "create", NAME)
    assert [e.status for e in vercel.log if e.method == "GET"][:2] == [500, 200]
    assert len(github_held(github)) == 2 and len(vercel_held(vercel)) == 2


def test_a_rate_limit_longer_than_the_bound_stops_that_service_for_the_run(
    cli: Cli, github: GitHubEmulator
) -> None:
    github.inject(429, method="GET", headers={"retry-after": "600"}, times=100)
    result = cli("branch", "create", NAME, expect=1)
    assert "asked this run to wait" in result.output or "(429)" in result.output
    assert len(github.log) == 1  # nothing more was sent to GitHub in this run
    github.faults.clear()


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("GITHUB_API_URL", "http://api.github.com", "GITHUB_API_URL 'http://api.github.com' must"),
        ("GITHUB_API_URL", "https://[::1", "GITHUB_API_URL 'https://[::1' is not a valid URL"),
        ("VERCEL_API_URL", "ftp://vercel", "VERCEL_API_URL 'ftp://vercel' must be an https://"),
        ("GITHUB_TOKEN", "", "GitHub needs a token: set GITHUB_TOKEN or GH_TOKEN"),
        ("VERCEL_TOKEN", "", "VERCEL_TOKEN is not set"),
        ("NEON_API_HOST", "https://neon:port/api", "NEON_API_HOST 'https://neon:port/api' is not"),
    ],
)
def test_missing_tokens_and_malformed_api_urls_are_config_errors(
    cli: Cli, setting: str, value: str, expected: str
) -> None:
    result = cli("sync", expect=2, env_overrides={setting: value})
    assert expected in one_line(result)


def test_a_write_whose_answer_was_lost_is_not_repeated_and_a_rerun_converges(
    cli: Cli, vercel: VercelEmulator
) -> None:
    vercel.inject(201, method="POST", path=r"/env$", drop=True)
    result = cli("branch", "create", NAME, expect=1)
    assert "Vercel API" in one_line_of(result, "Vercel API")
    assert [e.method for e in vercel.log].count("POST") == 1  # a POST is never sent twice
    landed = vercel_held(vercel)
    assert {key for key, _ in landed} == {"DATABASE_URL", "DATABASE_URL_UNPOOLED"}
    cli("sync", "-b", NAME)
    assert vercel_held(vercel) == landed and len(vercel.envs("shop")) == 2


def one_line_of(result: Any, marker: str) -> str:
    (line,) = [line for line in result.stderr.splitlines() if marker in line]
    assert "Traceback" not in result.output
    return str(line)
