"""`neon-sync init`: a config from what the folder holds, that validates and plans right."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from neon_sync.commands.init import detect, write_config
from neon_sync.emulators.github import GitHubEmulator
from neon_sync.emulators.server import serve
from neon_sync.emulators.vercel import VercelEmulator
from tests.conftest import NEON_KEY, Result, SeededNeon, Served
from tests.test_schema import validator

Cli = Callable[..., Result]
TEAM = "team_acme"


def git(folder: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True)


@pytest.fixture
def vercel() -> VercelEmulator:
    emu = VercelEmulator(token="vt_init")
    emu.add_project("shop", team=TEAM)
    return emu


@pytest.fixture
def app(tmp_path: Path, vercel: VercelEmulator) -> Path:
    """A Next.js + Prisma app linked to Vercel, cloned from GitHub."""
    project_id = next(iter(vercel.projects))
    (tmp_path / ".vercel").mkdir()
    link = {"projectId": project_id, "orgId": TEAM}
    (tmp_path / ".vercel" / "project.json").write_text(json.dumps(link), encoding="utf-8")
    (tmp_path / "prisma").mkdir()
    (tmp_path / "prisma" / "schema.prisma").write_text("datasource db {}\n", encoding="utf-8")
    git(tmp_path, "init", "-q")
    git(tmp_path, "remote", "add", "origin", "git@github.com:acme/shop.git")
    return tmp_path


pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


@pytest.fixture
def services(
    neon: SeededNeon, neon_served: Served, vercel: VercelEmulator
) -> Iterator[dict[str, str]]:
    github = GitHubEmulator(token="ghp_init")
    github.add_repo("acme/shop")
    with serve(vercel.handle) as vercel_url, serve(github.handle) as github_url:
        yield {
            "NEON_API_HOST": neon_served.url,
            "NEON_API_KEY": NEON_KEY,
            "NEON_PROJECT_ID": neon.project_id,
            "VERCEL_API_URL": vercel_url,
            "VERCEL_TOKEN": "vt_init",
            "GITHUB_API_URL": github_url,
            "GITHUB_TOKEN": "ghp_init",
        }


def test_init_yes_writes_a_config_that_validates_and_plans_vercel_and_github(
    run_cli: Cli, app: Path, services: dict[str, str], vercel: VercelEmulator
) -> None:
    result = run_cli("init", "--yes", cwd=app)
    assert result.exit_code == 0, result.output
    text = (app / "neon-sync.yaml").read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=https://")
    validator().validate(yaml.safe_load(text))
    assert run_cli("validate", cwd=app, env=services).exit_code == 0

    planned = run_cli("plan", "--json", cwd=app, env=services)
    assert planned.exit_code == 0, planned.output
    rows = {
        (c["branch"], c["target"], c["scope"], c["key"], c["action"])
        for c in json.loads(planned.stdout)["changes"]
    }
    prj = next(iter(vercel.projects))
    preview = ("preview/feature-login", "vercel", f"{prj}:preview@feature-login")
    assert rows == {
        ("main", "vercel", f"{prj}:production", "DATABASE_URL", "create"),
        ("main", "vercel", f"{prj}:production", "DIRECT_URL", "create"),
        ("main", "github", "repo:acme/shop", "DATABASE_URL", "create"),
        (*preview, "DATABASE_URL", "create"),
        (*preview, "DIRECT_URL", "create"),
    }
    assert not vercel.writes


def test_init_refuses_to_overwrite_a_config(run_cli: Cli, app: Path) -> None:
    (app / "neon-sync.yaml").write_text("# mine\n", encoding="utf-8")
    result = run_cli("init", "--yes", cwd=app)
    assert result.exit_code == 2 and "already exists" in result.stderr
    assert (app / "neon-sync.yaml").read_text(encoding="utf-8") == "# mine\n"


def test_init_without_a_terminal_never_prompts(run_cli: Cli, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("APP=1\n", encoding="utf-8")
    (tmp_path / ".neon").write_text('{"projectId": "shiny-wind-028834"}', encoding="utf-8")
    result = run_cli("init", cwd=tmp_path)  # CliRunner's stdin is not a terminal
    assert result.exit_code == 0, result.output
    config = yaml.safe_load((tmp_path / "neon-sync.yaml").read_text(encoding="utf-8"))
    assert config["neon"]["project_id"] == "shiny-wind-028834"
    assert config["targets"] == {"local": {"provider": "dotenv", "path": ".env"}}
    validator().validate(config)


def test_detect_reads_presets_from_dependencies(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(
        json.dumps({"dependencies": {"@vercel/postgres": "^0.10"}}), encoding="utf-8"
    )
    assert detect(tmp_path).preset == "vercel-postgres"
    (tmp_path / "package.json").unlink()
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["prisma>=0.15"]\n', encoding="utf-8"
    )
    found = detect(tmp_path)
    assert (found.preset, found.preset_why) == ("prisma", "prisma in pyproject.toml")


@pytest.mark.parametrize(("answer", "written"), [("n\n", False), ("y\n", True)])
def test_init_on_a_terminal_shows_what_it_found_and_asks_first(
    answer: str, written: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from neon_sync.cli import app
    from neon_sync.cli import init as cli_init

    (tmp_path / ".neon").write_text('{"projectId": "shiny-wind-028834"}', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli_init, "_on_terminal", lambda: True)
    result = CliRunner().invoke(app, ["init"], input=answer)
    assert result.exit_code == 0, result.output
    assert "Neon project shiny-wind-028834 (from .neon)" in result.output
    assert "Write neon-sync.yaml?" in result.output
    assert (tmp_path / "neon-sync.yaml").exists() is written


def test_init_on_a_terminal_asks_for_the_project_id_it_did_not_find(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from neon_sync.cli import app
    from neon_sync.cli import init as cli_init

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli_init, "_on_terminal", lambda: True)
    result = CliRunner().invoke(app, ["init"], input="icy-sea-123456\ny\n")
    assert result.exit_code == 0, result.output
    config = yaml.safe_load((tmp_path / "neon-sync.yaml").read_text(encoding="utf-8"))
    assert config["neon"]["project_id"] == "icy-sea-123456"


def test_values_read_from_files_cannot_add_keys_to_the_config(tmp_path: Path) -> None:
    (tmp_path / ".neon").write_text(
        json.dumps({"projectId": "p-1\nstate: {path: /etc/x}  # x"}), encoding="utf-8"
    )
    (tmp_path / ".vercel").mkdir()
    (tmp_path / ".vercel" / "project.json").write_text(
        json.dumps({"projectId": "prj_1\n    redeploy: true", "orgId": "team_a: b"}),
        encoding="utf-8",
    )
    path = write_config(tmp_path, detect(tmp_path))
    assert path is not None
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert "state" not in config
    assert config["neon"]["project_id"] == "p-1\nstate: {path: /etc/x}  # x"
    assert config["targets"]["vercel"] == {
        "provider": "vercel",
        "project": "prj_1\n    redeploy: true",
        "team": "team_a: b",
    }
