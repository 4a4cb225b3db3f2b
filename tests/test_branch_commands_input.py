"""What a user types to name a branch or to rotate a password: one "not found" wording and
exit 2 everywhere; `rotate` asks first (or needs --yes) and `--dry-run` resets nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from neon_sync.cli import branch as cli_branch
from neon_sync.emulators.github import GitHubEmulator
from tests.conftest import SeededNeon
from tests.test_lifecycle import (
    NAME,
    Cli,
    cli,
    github,
    github_held,
    neon_requests,
    owner_password,
    sleeper,
    unsettled,
    vercel,
)

__all__ = ["cli", "github", "sleeper", "unsettled", "vercel"]


@pytest.mark.parametrize(
    "args",
    [
        ("url", "preview/featur-login"),
        ("plan", "-b", "preview/featur-login"),
        ("sync", "-b", "preview/featur-login"),
        ("rotate", "preview/featur-login", "--yes"),
    ],
)
def test_branch_not_found_has_one_wording_and_exit_2(
    cli: Cli, neon: SeededNeon, args: tuple[str, ...]
) -> None:
    result = cli(*args, expect=2)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert (
        f"branch 'preview/featur-login' not found in Neon project {neon.project_id}; "
        "closest: 'preview/feature-login'"
    ) in lines[0]
    assert not [e for e in neon.log if e.method != "GET"]


def test_branch_delete_of_a_gone_branch_still_succeeds(cli: Cli, neon: SeededNeon) -> None:
    cli("branch", "delete", "preview/never-existed")


def test_rotate_without_a_terminal_needs_yes(cli: Cli, neon: SeededNeon) -> None:
    before = owner_password(neon, "main")
    result = cli("rotate", "main", expect=2)
    assert "pass --yes to confirm" in result.stderr
    assert owner_password(neon, "main") == before
    assert neon_requests(neon, "POST", "/reset_password") == []


def test_rotate_dry_run_shows_the_keys_and_resets_nothing(
    cli: Cli, neon: SeededNeon, github: GitHubEmulator, tmp_path: Path
) -> None:
    cli("branch", "create", NAME)
    before = owner_password(neon, NAME)
    held = github_held(github)
    result = cli("rotate", NAME, "--dry-run")
    assert owner_password(neon, NAME) == before and github_held(github) == held
    assert neon_requests(neon, "POST", "/reset_password") == []
    rows = [line.split()[:4] for line in result.stdout.splitlines()[1:-1]]
    assert rows == [
        ["update", "local", ".env.pr-42", "DATABASE_URL"],
        ["update", "local", ".env.pr-42", "DIRECT_URL"],
        ["update", "repo", "env:acme/shop/preview-pr-42", "DATABASE_URL"],
        ["update", "repo", "env:acme/shop/preview-pr-42", "DIRECT_URL"],
        ["update", "shop", "shop:preview@pr-42", "DATABASE_URL"],
        ["update", "shop", "shop:preview@pr-42", "DATABASE_URL_UNPOOLED"],
    ]
    assert result.stdout.splitlines()[-1] == "6 to update"


def test_rotate_on_a_terminal_asks_naming_branch_and_targets(
    cli: Cli, neon: SeededNeon, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli("branch", "create", NAME)
    before = owner_password(neon, NAME)
    asked: list[str] = []
    answer = [False]

    def confirm(prompt: str, **_: object) -> bool:
        asked.append(prompt)
        return answer[0]

    monkeypatch.setattr(cli_branch, "stdin_is_terminal", lambda: True)
    monkeypatch.setattr(typer, "confirm", confirm)
    refused = cli("rotate", NAME, expect=2)
    assert asked == [
        f"Reset the password of role 'neondb_owner' on branch '{NAME}' "
        "and update 6 key(s) in local, repo, shop?"
    ]
    assert "not confirmed; nothing was reset" in refused.stderr
    assert owner_password(neon, NAME) == before
    answer[0] = True
    cli("rotate", NAME)
    assert owner_password(neon, NAME) != before
