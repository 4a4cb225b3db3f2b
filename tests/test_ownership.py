"""Prune deletes only what this Neon project and this config wrote, and only while it still
holds what neon-sync wrote: two configs in one folder, a state file or a Vercel variable from
another project, a value edited by hand, a state file written by neon-sync 0.1."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from neon_sync.emulators.server import serve
from neon_sync.emulators.vercel import VercelEmulator
from tests.conftest import NEON_KEY, Result, SeededNeon, Served

CONFIG = """\
version: 1
neon:
  project_id: ${{NEON_PROJECT_ID}}
targets:
  local: {{ provider: dotenv, path: .env }}
branches:
  - match: "{match}"
    sync:
      - target: local
        path: "{path}"
        vars: {{ DATABASE_URL: pooled }}
"""
Run = Callable[..., Result]


@pytest.fixture
def cli(run_cli: Run, neon_env: dict[str, str]) -> Run:
    return lambda *args: run_cli(*args, env=neon_env)


def write(folder: Path, name: str, match: str, path: str) -> None:
    (folder / name).write_text(CONFIG.format(match=match, path=path))


def test_a_second_config_in_the_folder_never_prunes_the_firsts_keys(
    cli: Run, neon: SeededNeon, tmp_path: Path
) -> None:
    write(tmp_path, "a.yaml", "dev/{u}", ".env.a.{u}")
    write(tmp_path, "b.yaml", "main", ".env.b")
    assert cli("sync", "-c", "a.yaml").exit_code == 0
    assert cli("sync", "-c", "b.yaml").exit_code == 0
    neon.remove_branch(neon.project_id, "dev/alice")
    before = (tmp_path / ".env.a.alice").read_bytes()
    result = cli("sync", "-c", "b.yaml", "--prune", "--force", "--json")
    assert result.exit_code == 0, result.output
    assert [c for c in json.loads(result.stdout)["changes"] if c["action"] == "delete"] == []
    assert (tmp_path / ".env.a.alice").read_bytes() == before
    assert cli("sync", "-c", "a.yaml", "--prune").exit_code == 0  # its own config does
    assert (tmp_path / ".env.a.alice").read_bytes() == b""


def test_state_records_carry_the_project_and_a_relative_config_identity(
    cli: Run, neon: SeededNeon, tmp_path: Path
) -> None:
    write(tmp_path, "neon-sync.yaml", "main", ".env")
    assert cli("sync").exit_code == 0
    (record,) = json.loads((tmp_path / ".neon-sync" / "state.json").read_text())["records"]
    assert record["project"] == neon.project_id
    assert record["config"] == "../neon-sync.yaml"
    assert str(tmp_path) not in (tmp_path / ".neon-sync" / "state.json").read_text()


def test_records_of_another_project_are_never_pruned(
    cli: Run, neon: SeededNeon, tmp_path: Path
) -> None:
    write(tmp_path, "neon-sync.yaml", "dev/{u}", ".env.{u}")
    assert cli("sync").exit_code == 0
    state = tmp_path / ".neon-sync" / "state.json"
    doc = json.loads(state.read_text())
    for row in doc["records"]:
        row["project"] = "another-project-123"  # a state file copied from elsewhere
    state.write_text(json.dumps(doc))
    neon.remove_branch(neon.project_id, "dev/alice")
    before = (tmp_path / ".env.alice").read_bytes()
    result = cli("sync", "--prune", "--force")
    assert result.exit_code == 0
    assert (tmp_path / ".env.alice").read_bytes() == before
    assert "written for Neon project(s) another-project-123" in result.stderr
    assert "prune leaves those keys alone" in result.stderr


def test_a_state_file_from_neon_sync_0_1_keeps_working(
    cli: Run, neon: SeededNeon, tmp_path: Path, neon_served: Served
) -> None:
    write(tmp_path, "neon-sync.yaml", "dev/{u}", ".env.{u}")
    assert cli("sync").exit_code == 0
    state = tmp_path / ".neon-sync" / "state.json"
    doc = json.loads(state.read_text())
    for row in doc["records"]:
        del row["project"], row["config"]
        row["options"] = {"path": str(tmp_path / ".env.alice")}  # 0.1 kept absolute paths
    state.write_text(json.dumps(doc))
    again = cli("sync", "--json")
    assert {c["action"] for c in json.loads(again.stdout)["changes"]} == {"noop"}
    neon.remove_branch(neon.project_id, "dev/alice")
    assert cli("sync", "--prune").exit_code == 0
    assert (tmp_path / ".env.alice").read_bytes() == b""


def test_a_value_edited_by_hand_is_kept_and_reported_unless_forced(
    cli: Run, neon: SeededNeon, tmp_path: Path
) -> None:
    write(tmp_path, "neon-sync.yaml", "dev/{u}", ".env.{u}")
    assert cli("sync").exit_code == 0
    (tmp_path / ".env.alice").write_text("DATABASE_URL=postgresql://mine@localhost/dev\n")
    neon.remove_branch(neon.project_id, "dev/alice")
    result = cli("sync", "--prune")
    assert result.exit_code == 0
    assert "kept DATABASE_URL in local (.env.alice) of deleted branch dev/alice" in result.stderr
    assert "mine@localhost" in (tmp_path / ".env.alice").read_text()
    assert cli("sync", "--prune", "--force").exit_code == 0
    assert (tmp_path / ".env.alice").read_bytes() == b""


def test_a_vercel_variable_marked_by_another_project_is_never_pruned(
    run_cli: Run,
    write_config: Callable[[str], Path],
    neon: SeededNeon,
    neon_served: Served,
) -> None:
    vercel = VercelEmulator(token="vt_owner_1")
    vercel.add_project("shop")
    theirs = "managed by neon-sync; neon project: other-project-9; neon branch: preview/gone"
    legacy = "managed by neon-sync; neon branch: preview/old"
    vercel.add_env("shop", "DATABASE_URL", "x", ["preview"], git_branch="gone", comment=theirs)
    vercel.add_env("shop", "DATABASE_URL", "y", ["preview"], git_branch="old", comment=legacy)
    write_config(
        f"""\
version: 1
neon: {{ project_id: {neon.project_id} }}
targets:
  shop: {{ provider: vercel, project: shop }}
branches:
  - match: "preview/{{b}}"
    sync:
      - target: shop
        environment: preview
        git_branch: "{{b}}"
        vars: {{ DATABASE_URL: pooled }}
"""
    )
    with serve(vercel.handle) as url:
        env = {
            "NEON_API_HOST": neon_served.url,
            "NEON_API_KEY": NEON_KEY,
            "VERCEL_API_URL": url,
            "VERCEL_TOKEN": "vt_owner_1",
        }
        result = run_cli("sync", "--prune", env=env)
    assert result.exit_code == 0, result.output
    left = {(e.get("gitBranch"), e["comment"]) for e in vercel.envs("shop")}
    assert ("gone", theirs) in left  # another project's: kept
    assert not any(branch == "old" for branch, _ in left)  # 0.1's comment: ours, pruned
    ours = (
        f"managed by neon-sync; neon project: {neon.project_id}; neon branch: preview/feature-login"
    )
    assert ("feature-login", ours) in left
