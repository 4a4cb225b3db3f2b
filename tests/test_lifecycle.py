"""`branch create`, `branch delete` and `rotate` end to end: the CLI over loopback against the
Neon, GitHub and Vercel emulators, configured only by env, plus a .env file."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from neon_sync.commands.branch import create_branch, expires_at
from neon_sync.emulators.github import GitHubEmulator
from neon_sync.emulators.neon_json import busy_branches
from neon_sync.emulators.server import serve
from neon_sync.emulators.vercel import VercelEmulator
from neon_sync.engine import run as engine_run
from neon_sync.neon.client import RETRY
from tests.conftest import NEON_KEY, Result, SeededNeon, Served, Violations
from tests.test_github_emulator import spec_checked

GH_TOKEN = "ghp_lifecycle_token_5521"
VERCEL_TOKEN = "vt_lifecycle_token_7781"
NAME = "preview/pr-42"
CONFIG = """\
version: 1
neon:
  project_id: {project_id}
targets:
  local: {{ provider: dotenv, path: .env }}
  repo: {{ provider: github, repository: acme/shop }}
  shop: {{ provider: vercel, project: shop, team: team_acme }}
branches:
  - match: main
    sync:
      - {{ target: local, vars: {{ DATABASE_URL: pooled }} }}
  - match: "preview/{{name}}"
    sync:
      - target: local
        path: ".env.{{name}}"
        vars: {{ DATABASE_URL: pooled, DIRECT_URL: direct }}
      - target: repo
        environment: "preview-{{name}}"
        vars: {{ DATABASE_URL: pooled, DIRECT_URL: direct }}
      - target: shop
        environment: preview
        git_branch: "{{name}}"
        vars: {{ DATABASE_URL: pooled, DATABASE_URL_UNPOOLED: direct }}
"""
Cli = Callable[..., Result]


class Sleeper:
    """Stands in for time.sleep in every client of a run; `hook` runs on each wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.hook: Callable[[], None] = lambda: None

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.hook()


@pytest.fixture
def sleeper(monkeypatch: pytest.MonkeyPatch) -> Sleeper:
    """Operation waits and retries without real sleeping: the CLI's runs get this sleep."""
    fake = Sleeper()
    real = engine_run.open_run

    def fast(config_path: str | None, env: Any = None, **kwargs: Any) -> Any:
        return real(config_path, env, **{**kwargs, "sleep": fake})

    monkeypatch.setattr(engine_run, "open_run", fast)
    return fake


@pytest.fixture
def unsettled() -> list[bool]:
    """For every target write: did Neon still have an operation running at that moment?"""
    return []


App = Callable[[httpx.Request], httpx.Response]


def probed(app: App, neon: SeededNeon, seen: list[bool]) -> App:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.method != "GET":
            with neon.lock:
                seen.append(any(busy_branches(p) for p in neon.projects.values()))
        return app(request)

    return handle


@pytest.fixture
def github(
    neon: SeededNeon, unsettled: list[bool], violations: Violations
) -> Iterator[GitHubEmulator]:
    emu = GitHubEmulator(token=GH_TOKEN)
    emu.add_repo("acme/shop")
    with serve(probed(violations.guard(spec_checked(emu.handle)), neon, unsettled)) as url:
        emu.url = url  # type: ignore[attr-defined]
        yield emu


@pytest.fixture
def vercel(neon: SeededNeon, unsettled: list[bool]) -> Iterator[VercelEmulator]:
    emu = VercelEmulator(token=VERCEL_TOKEN)
    emu.add_project("shop", team="team_acme")
    with serve(probed(emu.handle, neon, unsettled)) as url:
        emu.url = url  # type: ignore[attr-defined]
        yield emu


@pytest.fixture
def cli(
    neon: SeededNeon,
    neon_served: Served,
    github: GitHubEmulator,
    vercel: VercelEmulator,
    sleeper: Sleeper,
    write_config: Callable[[str], Path],
    run_cli: Cli,
) -> Cli:
    """Run a command with the user's env; assert its exit code and that no credential or
    password the emulators know of reaches the output."""
    write_config(CONFIG.format(project_id=neon.project_id))
    env = {
        "NEON_API_HOST": neon_served.url,
        "NEON_API_KEY": NEON_KEY,
        "GITHUB_API_URL": github.url,  # type: ignore[attr-defined]
        "GITHUB_TOKEN": GH_TOKEN,
        "VERCEL_API_URL": vercel.url,  # type: ignore[attr-defined]
        "VERCEL_TOKEN": VERCEL_TOKEN,
    }
    seen_passwords: set[str] = set()

    def run(*args: str, expect: int = 0, env_overrides: dict[str, str] | None = None) -> Result:
        seen_passwords.update(passwords(neon))
        result = run_cli(*args, env={**env, **(env_overrides or {})})
        seen_passwords.update(passwords(neon))
        for secret in {GH_TOKEN, VERCEL_TOKEN, NEON_KEY, *seen_passwords}:
            assert secret not in result.output, args
        assert result.exit_code == expect, result.output
        return result

    return run


def passwords(neon: SeededNeon) -> set[str]:
    return {
        role.password
        for project in neon.projects.values()
        for branch in project.branches.values()
        for role in branch.roles.values()
    }


def pid(neon: SeededNeon) -> str:
    return neon.project_id


def named(neon: SeededNeon, name: str) -> list[str]:
    return [b.id for b in neon.projects[pid(neon)].branches.values() if b.name == name]


def owner_password(neon: SeededNeon, branch: str) -> str:
    return neon.password(pid(neon), branch, "neondb_owner")


def github_held(github: GitHubEmulator) -> dict[tuple[str, str], str]:
    """(environment or "repo", secret name) -> plaintext, as the emulator decrypted it."""
    repo = github.repos["acme/shop"]
    places = {"repo": repo.place} | {e.name: e.place for e in repo.environments.values()}
    return {(s, n): item.value for s, p in places.items() for n, item in p.secrets.items()}


def vercel_held(vercel: VercelEmulator) -> dict[tuple[str, str], str]:
    """(key, git branch) -> value."""
    return {(e["key"], e.get("gitBranch") or ""): e["value"] for e in vercel.envs("shop")}


def snapshot(
    github: GitHubEmulator, vercel: VercelEmulator, folder: Path
) -> tuple[dict[Any, str], dict[Any, str], dict[str, bytes]]:
    files = {p.name: p.read_bytes() for p in folder.glob(".env*")}
    return github_held(github), vercel_held(vercel), files


def neon_requests(neon: SeededNeon, method: str, suffix: str) -> list[int]:
    return [e.status for e in neon.log if e.method == method and e.path.endswith(suffix)]


# -- branch create -------------------------------------------------------------------------


def test_create_twice_makes_one_branch_and_prints_its_id(cli: Cli, neon: SeededNeon) -> None:
    first = cli("branch", "create", NAME, "--no-sync")
    second = json.loads(cli("branch", "create", NAME, "--json").stdout)
    (branch_id,) = named(neon, NAME)
    assert first.stdout.strip() == branch_id
    assert second["branch"] == {"id": branch_id, "name": NAME, "created": False}
    assert {c["action"] for c in second["changes"]} == {"create"}
    assert {c["branch"] for c in second["changes"]} == {NAME}
    assert neon_requests(neon, "POST", "/branches") == [201]


@pytest.mark.parametrize("as_json", [False, True])
def test_create_prints_the_branch_id_even_when_the_sync_after_it_fails(
    cli: Cli, neon: SeededNeon, as_json: bool
) -> None:
    neon.inject(500, times=1000, method="GET", path="/endpoints$")
    result = cli("branch", "create", NAME, *(["--json"] if as_json else []), expect=1)
    (branch_id,) = named(neon, NAME)
    if as_json:
        doc = json.loads(result.stdout)
        assert doc["branch"] == {"id": branch_id, "name": NAME, "created": True}
        assert "list the endpoints" in doc["errors"][0]["message"]
    else:
        assert result.stdout.splitlines()[0] == branch_id
    assert "list the endpoints" in result.stderr


def test_create_says_in_json_whether_it_made_the_branch(cli: Cli, neon: SeededNeon) -> None:
    made = json.loads(cli("branch", "create", NAME, "--no-sync", "--json").stdout)
    again = json.loads(cli("branch", "create", NAME, "--no-sync", "--json").stdout)
    assert (made["branch"]["created"], again["branch"]["created"]) == (True, False)
    assert made["branch"]["id"] == again["branch"]["id"] == named(neon, NAME)[0]


def test_create_waits_for_neons_operations_and_gives_the_branch_a_read_write_compute(
    cli: Cli, neon: SeededNeon
) -> None:
    cli("branch", "create", NAME, "--no-sync")
    (branch_id,) = named(neon, NAME)
    ops = [op for op in neon.projects[pid(neon)].operations.values() if op.branch_id == branch_id]
    assert {op.action for op in ops} == {"create_timeline", "start_compute"}
    assert {op.status for op in ops} == {"finished"}
    assert neon.endpoint(pid(neon), NAME)["type"] == "read_write"


def test_create_syncs_only_the_new_branch_to_its_vercel_preview_github_environment_and_file(
    cli: Cli,
    neon: SeededNeon,
    github: GitHubEmulator,
    vercel: VercelEmulator,
    tmp_path: Path,
) -> None:
    result = cli("branch", "create", NAME)
    host = neon.endpoint(pid(neon), NAME)["host"]
    pooled = host.replace(".", "-pooler.", 1)
    password = owner_password(neon, NAME)
    assert set(github_held(github)) == {
        ("preview-pr-42", "DATABASE_URL"),
        ("preview-pr-42", "DIRECT_URL"),
    }
    assert f":{password}@{pooled}/" in github_held(github)[("preview-pr-42", "DATABASE_URL")]
    assert f":{password}@{host}/" in github_held(github)[("preview-pr-42", "DIRECT_URL")]
    assert set(vercel_held(vercel)) == {
        ("DATABASE_URL", "pr-42"),
        ("DATABASE_URL_UNPOOLED", "pr-42"),
    }
    assert f"@{pooled}/" in vercel_held(vercel)[("DATABASE_URL", "pr-42")]
    assert {e["target"][0] for e in vercel.envs("shop")} == {"preview"}
    assert sorted(p.name for p in tmp_path.glob(".env*")) == [".env.pr-42"]
    assert f"@{host}/".encode() in (tmp_path / ".env.pr-42").read_bytes()
    # The owner's password came with the create answer: nothing was revealed.
    assert neon_requests(neon, "GET", "/reveal_password") == []
    assert result.stdout.splitlines()[0] == named(neon, NAME)[0]


def test_create_branches_from_the_named_parent_and_sets_the_expiry(
    cli: Cli, neon: SeededNeon
) -> None:
    cli("branch", "create", NAME, "--parent", "dev/alice", "--expires-in", "7d", "--no-sync")
    branch = neon.branch(pid(neon), NAME)
    assert branch["parent_id"] == neon.branch(pid(neon), "dev/alice")["id"]
    expiry = datetime.fromisoformat(branch["expires_at"])
    assert abs(expiry - (datetime.now(UTC) + timedelta(days=7))) < timedelta(minutes=1)


def test_create_with_an_unknown_parent_is_a_usage_error_and_writes_nothing(
    cli: Cli, neon: SeededNeon
) -> None:
    result = cli("branch", "create", NAME, "--parent", "no-such", expect=2)
    assert "branch 'no-such' not found in Neon project" in result.stderr
    assert neon.writes == []


def test_create_retries_while_another_operation_holds_the_project(
    cli: Cli, neon: SeededNeon, sleeper: Sleeper
) -> None:
    neon.lock_while_running = True
    with neon.lock:
        project = neon.projects[pid(neon)]
        other = neon.new_operation(project, "apply_config", project.default_branch().id)

    def finish_later() -> None:
        if len(sleeper.waits) == 2:  # Neon finishes the other operation during our 2nd wait
            other.status = "finished"

    sleeper.hook = finish_later
    cli("branch", "create", NAME)
    assert neon_requests(neon, "POST", "/branches") == [423, 423, 201]
    assert len(named(neon, NAME)) == 1


def test_create_gives_up_after_a_bounded_number_of_423s(
    cli: Cli, neon: SeededNeon, sleeper: Sleeper
) -> None:
    neon.inject(423, times=100, method="POST", path="/branches$")
    result = cli("branch", "create", NAME, expect=1)
    assert "(423)" in result.stderr and "busy" in result.stderr
    assert len(neon_requests(neon, "POST", "/branches")) == RETRY.attempts
    assert len(sleeper.waits) == RETRY.attempts - 1
    assert named(neon, NAME) == []


def test_create_reuses_a_branch_made_by_someone_else_meanwhile(
    neon: SeededNeon, write_config: Callable[[str], Path]
) -> None:
    config = write_config(CONFIG.format(project_id=pid(neon)))
    made: list[str] = []

    def racing(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and not made:  # another CI job wins the race
            made.append(neon.add_branch(pid(neon), NAME))
        return neon.handle(request)

    env = {"NEON_API_HOST": "https://neon.test/api/v2", "NEON_API_KEY": NEON_KEY}
    transport = httpx.MockTransport(racing)
    with engine_run.open_run(str(config), env, transport=transport, sleep=lambda _: None) as run:
        created = create_branch(run, NAME, parent=None, expires_in=None, sync=False)
    assert (created.branch.id, created.new, created.outcome) == (made[0], False, None)
    assert neon_requests(neon, "POST", "/branches") == [409]
    assert named(neon, NAME) == made


def test_expiry_is_rfc3339_to_the_second() -> None:
    now = datetime(2025, 6, 9, 18, 2, 16, 900000, tzinfo=UTC)
    assert expires_at(3600.5, now) == "2025-06-09T19:02:17Z"


# -- branch delete -------------------------------------------------------------------------


def test_delete_removes_exactly_that_branchs_values_then_the_branch(
    cli: Cli,
    neon: SeededNeon,
    github: GitHubEmulator,
    vercel: VercelEmulator,
    tmp_path: Path,
) -> None:
    cli("sync")
    others = snapshot(github, vercel, tmp_path)
    cli("branch", "create", NAME)
    (tmp_path / ".env.pr-42").write_text("# mine\nKEEP=1\n" + (tmp_path / ".env.pr-42").read_text())
    cli("branch", "delete", NAME)
    left_github, left_vercel, left_files = snapshot(github, vercel, tmp_path)
    assert (left_github, left_vercel) == others[:2]
    assert left_files == {**others[2], ".env.pr-42": b"# mine\nKEEP=1\n"}
    assert named(neon, NAME) == []
    assert neon_requests(neon, "DELETE", "") == [200]


def test_delete_refuses_the_default_and_protected_branches_before_any_write(
    cli: Cli, neon: SeededNeon, github: GitHubEmulator, vercel: VercelEmulator
) -> None:
    neon.add_branch(pid(neon), "release", protected=True)
    cli("sync")
    for emulator in (github, vercel, neon):
        emulator.log.clear()
    default = cli("branch", "delete", "main", expect=2)
    protected = cli("branch", "delete", "release", expect=2)
    assert "'main' is the default branch" in default.stderr
    assert "'release' is protected" in protected.stderr
    assert neon.writes == github.writes == vercel.writes == []


def test_delete_refuses_a_branch_with_children(cli: Cli, neon: SeededNeon) -> None:
    neon.add_branch(pid(neon), "preview/child", parent="preview/feature-login")
    result = cli("branch", "delete", "preview/feature-login", expect=2)
    assert "has child branches (preview/child)" in result.stderr
    assert neon.writes == []


def test_delete_of_a_branch_already_gone_still_prunes_its_leftovers(
    cli: Cli,
    neon: SeededNeon,
    github: GitHubEmulator,
    vercel: VercelEmulator,
    tmp_path: Path,
) -> None:
    before = snapshot(github, vercel, tmp_path)
    cli("branch", "create", NAME)
    neon.remove_branch(pid(neon), NAME)  # expired, or deleted in the console
    cli("branch", "delete", NAME)
    assert snapshot(github, vercel, tmp_path)[:2] == before[:2]
    github.log.clear()
    vercel.log.clear()
    cli("branch", "delete", NAME)  # and again: nothing left to do
    assert github.writes == vercel.writes == []
    assert neon_requests(neon, "DELETE", "") == []


def test_delete_keeps_the_neon_branch_when_a_target_cannot_be_pruned(
    cli: Cli, neon: SeededNeon, github: GitHubEmulator
) -> None:
    cli("branch", "create", NAME)
    github.inject(500, times=100, method="DELETE")
    result = cli("branch", "delete", NAME, expect=1)
    assert f"branch '{NAME}' was not deleted in Neon" in result.stderr
    assert len(named(neon, NAME)) == 1
    github.faults.clear()
    cli("branch", "delete", NAME)
    assert named(neon, NAME) == [] and github_held(github) == {}


# -- rotate --------------------------------------------------------------------------------


def test_rotate_leaves_every_target_holding_the_new_active_password(
    cli: Cli,
    neon: SeededNeon,
    github: GitHubEmulator,
    vercel: VercelEmulator,
    unsettled: list[bool],
    tmp_path: Path,
) -> None:
    cli("branch", "create", NAME)
    old = owner_password(neon, NAME)
    unsettled.clear()
    reveals = len(neon_requests(neon, "GET", "/reveal_password"))
    cli("rotate", NAME, "--yes")
    new = owner_password(neon, NAME)
    assert new != old
    values = [
        *github_held(github).values(),
        *vercel_held(vercel).values(),
        *(tmp_path / ".env.pr-42").read_text().splitlines(),
    ]
    assert len(values) == 6
    assert all(f":{new}@" in value and old not in value for value in values)
    assert neon_requests(neon, "POST", "/reset_password") == [200]
    assert len(neon_requests(neon, "GET", "/reveal_password")) == reveals
    # Every target write came after Neon finished applying the new password.
    assert unsettled and not any(unsettled)


def test_rotate_rejects_an_unknown_role_or_branch_before_resetting(
    cli: Cli, neon: SeededNeon
) -> None:
    role = cli("rotate", "main", "--role", "nobody", "--yes", expect=2)
    branch = cli("rotate", "no-such", "--yes", expect=2)
    assert "has no role 'nobody'" in role.stderr
    assert "branch 'no-such' not found in Neon project" in branch.stderr
    assert neon.writes == []


def test_delete_refused_by_the_prune_guard_keeps_everything_until_forced(
    cli: Cli,
    neon: SeededNeon,
    github: GitHubEmulator,
    vercel: VercelEmulator,
    write_config: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    cli("branch", "create", NAME)
    write_config(CONFIG.format(project_id=neon.project_id) + "safety: { max_deletes: 1 }\n")
    before = snapshot(github, vercel, tmp_path)
    result = cli("branch", "delete", NAME, expect=1)
    assert "more than safety.max_deletes (1)" in result.stderr
    assert f"branch {NAME!r} was not deleted in Neon" in result.stderr
    assert snapshot(github, vercel, tmp_path) == before
    assert [e for e in vercel.log + github.log if e.method == "DELETE"] == []
    assert len(named(neon, NAME)) == 1
    cli("branch", "delete", NAME, "--force")
    assert named(neon, NAME) == []
    assert not any(branch == "pr-42" for _key, branch in vercel_held(vercel))


def test_branch_delete_says_what_it_removed_and_where(cli: Cli) -> None:
    cli("branch", "create", NAME)
    result = cli("branch", "delete", NAME)
    assert "removed DATABASE_URL from local (.env.pr-42)" in result.stderr
    assert "removed DIRECT_URL from repo (" in result.stderr
    assert f"deleted Neon branch {NAME} (br-" in result.stderr
    again = cli("branch", "delete", NAME, "--json")
    doc = json.loads(again.stdout)
    assert doc["branch"] == {"name": NAME, "id": None, "deleted": False}
    assert doc["removed"] == []
