"""What neon-sync prints inside GitHub Actions (GITHUB_ACTIONS=true): `::add-mask::` for every
secret before any line that could hold it, a masked job summary, `::error` annotations. The
CLI runs as a subprocess with stdout and stderr in one pipe, the order the runner sees."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from neon_sync.emulators.github import GitHubEmulator
from neon_sync.emulators.server import serve
from tests.conftest import NEON_KEY, SeededNeon, Served, Violations
from tests.test_examples import instant_operations
from tests.test_github_emulator import spec_checked

GH_TOKEN = "github_pat_output_3317"
CONFIG = """\
version: 1
neon:
  project_id: ${NEON_PROJECT_ID}
targets:
  repo: { provider: github, repository: acme/shop }
  local: { provider: dotenv, path: .env }
branches:
  - match: main
    sync:
      - target: repo
        vars: { DATABASE_URL: direct }
      - target: local
        vars: { DATABASE_URL: pooled, PGPASSWORD: "{password}" }
  - match: "preview/{name}"
    sync:
      - target: repo
        environment: "preview-{name}"
        vars: { DATABASE_URL: pooled }
"""
BROKEN_TARGET = """\
  - match: main
    sync:
      - target: gone
        vars: { DATABASE_URL: direct }
"""


@dataclass(frozen=True)
class Output:
    status: int
    lines: list[str]
    summary: str


@pytest.fixture
def github(violations: Violations) -> Iterator[tuple[GitHubEmulator, str]]:
    github = GitHubEmulator(token=GH_TOKEN)
    github.add_repo("acme/shop")
    with serve(violations.guard(spec_checked(github.handle))) as url:
        yield github, url


@dataclass(frozen=True)
class Cli:
    """`python -m sync ...` in `folder` with `env`: what a workflow step runs."""

    folder: Path
    env: dict[str, str]

    def __call__(self, *args: str, config: str = CONFIG) -> Output:
        (self.folder / "neon-sync.yaml").write_text(config, encoding="utf-8")
        summary = Path(self.env["GITHUB_STEP_SUMMARY"])
        summary.write_text("", encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "neon_sync", *args],
            cwd=self.folder,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # one pipe: the order in which lines were written
            text=True,
            timeout=60,
            check=False,
        )
        return Output(done.returncode, done.stdout.splitlines(), summary.read_text())


@pytest.fixture
def neon_sync(
    neon: SeededNeon,
    neon_served: Served,
    github: tuple[GitHubEmulator, str],
    tmp_path: Path,
) -> Cli:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(tmp_path / "step-summary.md"),
        "NEON_API_HOST": neon_served.url,
        "NEON_API_KEY": NEON_KEY,
        "NEON_PROJECT_ID": neon.project_id,
        "GITHUB_API_URL": github[1],
        "GITHUB_TOKEN": GH_TOKEN,
    }
    return Cli(tmp_path, env)


def passwords(neon: SeededNeon, *branches: str) -> list[str]:
    return [neon.password(neon.project_id, b, "neondb_owner") for b in branches]


def masked(lines: list[str]) -> set[str]:
    return {line.removeprefix("::add-mask::") for line in lines if line.startswith("::add-mask::")}


@pytest.mark.parametrize("mode", [[], ["--json"]], ids=["table", "json"])
def test_every_mask_comes_before_the_first_line_that_is_not_a_workflow_command(
    neon_sync: Cli, neon: SeededNeon, mode: list[str]
) -> None:
    out = neon_sync("sync", *mode)
    assert out.status == 0, out.lines
    secrets = passwords(neon, "main", "preview/feature-login")
    assert masked(out.lines) >= {*secrets, *(quote(s, safe="") for s in secrets), GH_TOKEN}
    first_other = next(i for i, line in enumerate(out.lines) if not line.startswith("::"))
    last_mask = max(i for i, line in enumerate(out.lines) if line.startswith("::add-mask::"))
    assert last_mask < first_other, out.lines


def test_a_password_shows_in_no_line_but_its_mask(
    neon_sync: Cli, neon: SeededNeon, tmp_path: Path
) -> None:
    out = neon_sync("sync")
    assert out.status == 0, out.lines
    for secret in passwords(neon, "main", "preview/feature-login"):
        assert [line for line in out.lines if secret in line] == [f"::add-mask::{secret}"]
    assert passwords(neon, "main")[0] in (tmp_path / ".env").read_text()  # it was handled


def test_job_summary_is_a_table_of_the_changes_with_values_masked(
    neon_sync: Cli, neon: SeededNeon
) -> None:
    out = neon_sync("sync")
    assert out.status == 0, out.lines
    lines = out.summary.splitlines()
    assert lines[0] == "### neon-sync sync"
    assert "| action | target | scope | key | branch | value |" in lines
    rows = [line for line in lines if line.startswith("| create |")]
    assert len(rows) == 4  # repo: 2 places; local: DATABASE_URL and PGPASSWORD
    assert all("****" in row for row in rows)
    assert not any(secret in out.summary for secret in passwords(neon, "main"))


def test_plan_summary_says_plan_and_a_second_sync_reports_nothing_to_do(
    neon_sync: Cli,
) -> None:
    assert neon_sync("plan").summary.startswith("### neon-sync plan\n")
    assert neon_sync("sync").status == 0
    again = neon_sync("sync")
    assert "Every target is up to date." in again.summary


def with_broken_target() -> str:
    config = CONFIG.replace(
        "  local: {", "  gone: { provider: github, repository: acme/gone }\n  local: {"
    )
    return config.replace("branches:\n", "branches:\n" + BROKEN_TARGET)


def test_failing_target_is_an_error_annotation_and_the_others_still_sync(
    neon_sync: Cli, github: tuple[GitHubEmulator, str], tmp_path: Path
) -> None:
    out = neon_sync("sync", config=with_broken_target())
    assert out.status == 1
    errors = [line for line in out.lines if line.startswith("::error")]
    assert len(errors) == 1 and errors[0].startswith("::error title=neon-sync::target gone: ")
    assert "acme/gone" in errors[0]
    assert "**gone** failed:" in out.summary
    assert github[0].secret_plaintext("acme/shop", "DATABASE_URL") is not None
    assert (tmp_path / ".env").exists()


def test_failing_target_is_an_error_annotation_under_json_too(neon_sync: Cli) -> None:
    out = neon_sync("sync", "--json", config=with_broken_target())
    assert out.status == 1
    assert any(line.startswith("::error title=neon-sync::target gone: ") for line in out.lines)


# -- found while writing these: bugs in sync/cli.py and sync/cli_lifecycle.py ---------------


def test_branch_create_leaves_a_job_summary(
    neon_sync: Cli, neon: SeededNeon, monkeypatch: pytest.MonkeyPatch
) -> None:
    instant_operations(neon, monkeypatch)
    out = neon_sync("branch", "create", "preview/pr-9", "--json")
    assert out.status == 0, out.lines
    assert "| create | repo | env:acme/shop/preview-pr-9 | DATABASE_URL |" in out.summary


def test_url_prints_only_the_connection_string_on_stdout(neon_sync: Cli) -> None:
    (neon_sync.folder / "neon-sync.yaml").write_text(CONFIG, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "neon_sync", "url", "main"],
        cwd=neon_sync.folder,
        env=neon_sync.env,
        capture_output=True,  # apart: stdout is what $(neon-sync url) captures
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1 and done.stdout.startswith("postgresql://")
    assert "::add-mask::" in done.stderr
