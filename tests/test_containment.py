"""One bad branch never blocks the rest: a branch without a compute, a role Neon will not
reveal, a password Neon answers as null, a branch name that climbs out of the folder, a write
the service refuses. Each fails only its own keys; every other key is written; exit 1."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from neon_sync.emulators.github import GitHubEmulator
from neon_sync.emulators.server import serve
from neon_sync.emulators.vercel import VercelEmulator
from tests.conftest import NEON_KEY, Result, SeededNeon, Served

CONFIG = """\
version: 1
neon:
  project_id: ${NEON_PROJECT_ID}
targets:
  local:
    provider: dotenv
    path: .env
branches:
  - match: "dev/{user}"
    sync:
      - target: local
        path: ".env.{user}"
        vars:
          DATABASE_URL: pooled
          DIRECT_URL: direct
"""
USERS = [f"u{i}" for i in range(9)]
Run = Callable[..., Result]


@pytest.fixture
def cli(run_cli: Run, write_config: Callable[[str], Path], neon_env: dict[str, str]) -> Run:
    write_config(CONFIG)
    return lambda *args: run_cli(*args, env=neon_env)


def expected(neon: SeededNeon, branch: str) -> bytes:
    pid = neon.project_id
    host = neon.endpoint(pid, branch)["host"]
    pooled = host.replace(".", "-pooler.", 1)
    owner = neon.password(pid, branch, "neondb_owner")
    tail = "sslmode=require&channel_binding=require"
    return (
        f"DATABASE_URL='postgresql://neondb_owner:{owner}@{pooled}/neondb?{tail}'\n"
        f"DIRECT_URL='postgresql://neondb_owner:{owner}@{host}/neondb?{tail}'\n"
    ).encode()


def ten_branches(neon: SeededNeon, bad: str) -> None:
    """Nine good dev branches (dev/alice of the seed is removed), and dev/<bad>."""
    neon.remove_branch(neon.project_id, "dev/alice")
    for user in USERS:
        neon.add_branch(neon.project_id, f"dev/{user}")
    neon.add_branch(neon.project_id, f"dev/{bad}", endpoints=())


def test_one_branch_without_compute_among_ten_writes_the_other_nine(
    cli: Run, neon: SeededNeon, tmp_path: Path
) -> None:
    ten_branches(neon, "ghost")
    result = cli("sync")
    assert result.exit_code == 1, result.output
    for user in USERS:
        assert (tmp_path / f".env.{user}").read_bytes() == expected(neon, f"dev/{user}")
    assert not (tmp_path / ".env.ghost").exists()
    problems = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(problems) == 1, result.stderr  # the branch's failure, once, not once per key
    assert "branch 'dev/ghost'" in problems[0] and "read_write compute" in problems[0]
    assert "DATABASE_URL, DIRECT_URL" in problems[0]
    assert "18 created, 2 failed" in result.stdout


def test_json_lists_each_failed_key_with_target_branch_and_key(cli: Run, neon: SeededNeon) -> None:
    ten_branches(neon, "ghost")
    result = cli("sync", "--json")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["applied"] is True
    assert len([c for c in doc["changes"] if c["action"] == "create"]) == 18
    assert [(e["target"], e["branch"], e["key"]) for e in doc["errors"]] == [
        ("local", "dev/ghost", "DATABASE_URL"),
        ("local", "dev/ghost", "DIRECT_URL"),
    ]
    assert all("add one in Neon" in e["message"] for e in doc["errors"])


def test_a_missing_role_fails_only_that_branch(
    run_cli: Run,
    write_config: Callable[[str], Path],
    neon_env: dict[str, str],
    neon: SeededNeon,
    tmp_path: Path,
) -> None:
    write_config(CONFIG.replace("DIRECT_URL: direct", "DIRECT_URL: { url: direct, role: app }"))
    neon.add_branch(neon.project_id, "dev/bob")
    neon.add_role(neon.project_id, "dev/bob", "app")
    result = run_cli("sync", env=neon_env)  # dev/alice has no role app
    assert result.exit_code == 1
    assert "DIRECT_URL" in (tmp_path / ".env.bob").read_text()
    assert "DATABASE_URL" in (tmp_path / ".env.bob").read_text()
    alice = (tmp_path / ".env.alice").read_text()
    assert "DATABASE_URL=" in alice and "DIRECT_URL" not in alice
    assert "role 'app'" in result.stderr and "dev/alice" in result.stderr


@pytest.mark.parametrize("bad", [None, "", 12345, {"x": 1}])
def test_a_password_neon_answers_badly_is_never_written(
    run_cli: Run,
    write_config: Callable[[str], Path],
    neon: SeededNeon,
    tmp_path: Path,
    bad: object,
) -> None:
    write_config(CONFIG)
    neon.add_branch(neon.project_id, "dev/bob")
    bob = neon.branch(neon.project_id, "dev/bob")["id"]
    neon.inject(
        200, path=f"branches/{bob}/roles/.*/reveal_password", body={"password": bad}, times=9
    )
    # Served without the spec check: the answer is off-spec on purpose.
    with serve(neon.handle) as url:
        env = {"NEON_API_HOST": url + "/api/v2", "NEON_API_KEY": NEON_KEY}
        result = run_cli("sync", "--json", env={**env, "NEON_PROJECT_ID": neon.project_id})
    assert result.exit_code == 1
    assert not (tmp_path / ".env.bob").exists()
    assert (tmp_path / ".env.alice").read_bytes() == expected(neon, "dev/alice")
    errors = json.loads(result.stdout)["errors"]
    assert {e["branch"] for e in errors} == {"dev/bob"}
    assert all("reveal_password answered a password that is" in e["message"] for e in errors)


def test_a_branch_name_that_climbs_out_of_the_folder_writes_nothing_there(
    cli: Run, neon: SeededNeon, tmp_path: Path
) -> None:
    neon.add_branch(neon.project_id, "dev/../../../escaped")
    neon.add_branch(neon.project_id, "dev/x/../../.bashrc")
    before = sorted(p.name for p in tmp_path.parent.iterdir())
    result = cli("sync", "--json")
    assert result.exit_code == 1
    assert sorted(p.name for p in tmp_path.parent.iterdir()) == before
    assert not list(tmp_path.rglob("*bashrc*")) and not list(tmp_path.rglob("*escaped*"))
    assert (tmp_path / ".env.alice").read_bytes() == expected(neon, "dev/alice")
    bad = {e["branch"] for e in json.loads(result.stdout)["errors"]}
    assert bad == {"dev/../../../escaped", "dev/x/../../.bashrc"}


def test_a_branch_name_with_a_control_character_never_reaches_the_file_system(
    cli: Run, neon: SeededNeon, tmp_path: Path
) -> None:
    neon.add_branch(neon.project_id, "dev/evil\rname")
    neon.add_branch(neon.project_id, "dev/nul\x00name")
    result = cli("sync")
    assert result.exit_code == 1
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".env")) == [".env.alice"]
    assert "control character" in result.stderr


def test_a_refused_vercel_write_is_reported_failed_never_created(
    run_cli: Run,
    write_config: Callable[[str], Path],
    neon: SeededNeon,
    neon_served: Served,
) -> None:
    vercel = VercelEmulator(token="vt_token_1")
    vercel.add_project("shop")
    write_config(
        f"""\
version: 1
neon: {{ project_id: {neon.project_id} }}
targets:
  shop: {{ provider: vercel, project: shop }}
  local: {{ provider: dotenv, path: .env }}
branches:
  - match: main
    sync:
      - target: shop
        environment: production
        vars: {{ DATABASE_URL: pooled, DIRECT_URL: direct }}
      - target: local
        vars: {{ DATABASE_URL: pooled }}
"""
    )
    vercel.inject(500, method="POST", times=20)
    with serve(vercel.handle) as url:
        env = {
            "NEON_API_HOST": neon_served.url,
            "NEON_API_KEY": NEON_KEY,
            "VERCEL_API_URL": url,
            "VERCEL_TOKEN": "vt_token_1",
        }
        result = run_cli("sync", env=env)
        as_json = run_cli("sync", "--json", env=env)
    assert result.exit_code == 1
    assert "1 created, 2 failed" in result.stdout
    assert "2 created" not in result.stdout
    assert vercel.envs("shop") == []
    doc = json.loads(as_json.stdout)
    failed = sorted(c["key"] for c in doc["changes"] if c.get("failed"))
    assert failed == ["DATABASE_URL", "DIRECT_URL"]
    assert {(e["target"], e["branch"]) for e in doc["errors"]} == {("shop", "main")}


def test_an_endpoint_host_that_is_not_a_host_name_is_never_written(
    run_cli: Run, write_config: Callable[[str], Path], neon: SeededNeon, tmp_path: Path
) -> None:
    write_config(CONFIG)
    listed = [neon.endpoint(neon.project_id, "dev/alice")]
    listed[0] = {**listed[0], "host": "evil.example/x?sslmode=disable#"}
    neon.inject(200, method="GET", path="/endpoints$", body={"endpoints": listed}, times=5)
    with serve(neon.handle) as url:
        env = {"NEON_API_HOST": url + "/api/v2", "NEON_API_KEY": NEON_KEY}
        result = run_cli("sync", "--json", env={**env, "NEON_PROJECT_ID": neon.project_id})
    assert result.exit_code == 1
    assert not (tmp_path / ".env.alice").exists()
    (error, *_) = json.loads(result.stdout)["errors"]
    assert error["branch"] == "dev/alice"
    assert "is not a host name" in error["message"] and "/endpoints" in error["message"]


def test_json_is_printed_even_when_the_run_cannot_start(
    run_cli: Run, write_config: Callable[[str], Path], neon: SeededNeon, neon_env: dict[str, str]
) -> None:
    write_config(CONFIG)
    neon.inject(500, method="GET", path="/branches$", times=100)
    result = run_cli("sync", "--json", env=neon_env)
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["applied"] is False and "list the branches" in doc["errors"][0]["message"]


def test_a_value_github_cannot_hold_fails_only_its_key(
    run_cli: Run, write_config: Callable[[str], Path], neon: SeededNeon, neon_served: Served
) -> None:
    github = GitHubEmulator(token="ghp_token_1")
    github.add_repo("acme/shop")
    padding = "x" * (48 * 1024)  # with the host, over the 48 KB GitHub holds per secret
    write_config(
        f"""\
version: 1
neon: {{ project_id: {neon.project_id} }}
targets:
  repo: {{ provider: github, repository: acme/shop }}
branches:
  - match: main
    sync:
      - target: repo
        vars:
          DATABASE_URL: direct
          PGHOST: {{ value: "{{host}}", secret: false }}
          HUGE_BLOB: {{ value: "{padding}{{host}}" }}
"""
    )
    with serve(github.handle) as url:
        env = {
            "NEON_API_HOST": neon_served.url,
            "NEON_API_KEY": NEON_KEY,
            "GITHUB_API_URL": url,
            "GITHUB_TOKEN": "ghp_token_1",
        }
        result = run_cli("sync", env=env)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and padding not in result.output
    place = github.repos["acme/shop"].place
    assert set(place.secrets) == {"DATABASE_URL"}
    assert (
        neon.password(neon.project_id, "main", "neondb_owner")
        in place.secrets["DATABASE_URL"].value
    )
    assert set(place.variables) == {"PGHOST"}
    assert not [entry for entry in github.log if "HUGE_BLOB" in entry.path]  # never sent
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1, result.stderr
    assert "HUGE_BLOB" in errors[0] and "48 KB" in errors[0]
