"""The engine in-process, against the Neon emulator through an httpx transport."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from neon_sync import providers
from neon_sync.commands.url import connection_string
from neon_sync.engine.plan import Action
from neon_sync.engine.run import open_run
from neon_sync.errors import ApiError, ConfigError
from neon_sync.neon.client import RETRY
from tests.conftest import NEON_KEY, SeededNeon

HEAD = """\
version: 1
neon:
  project_id: ${NEON_PROJECT_ID}
targets:
  local:
    provider: dotenv
    path: .env
  broken:
    provider: dotenv
    path: missing-folder/.env
branches:
"""


@pytest.fixture
def env(neon: SeededNeon) -> dict[str, str]:
    return {
        "NEON_API_HOST": "https://neon.test/api/v2",
        "NEON_API_KEY": NEON_KEY,
        "NEON_PROJECT_ID": neon.project_id,
    }


def test_one_failing_target_does_not_stop_the_others_and_a_rerun_completes(
    write_config: Callable[[str], Path],
    env: dict[str, str],
    neon_transport: httpx.MockTransport,
    tmp_path: Path,
) -> None:
    config = write_config(
        HEAD
        + """\
  - match: main
    sync:
      - { target: local, vars: { DATABASE_URL: pooled } }
      - { target: broken, vars: { DATABASE_URL: pooled } }
"""
    )
    with open_run(str(config), env, transport=neon_transport) as run:
        outcome = run.sync()
    assert {f.target for f in outcome.failures} == {"broken"}
    assert all("missing-folder" in f.message for f in outcome.failures)
    assert "DATABASE_URL=" in (tmp_path / ".env").read_text()
    (tmp_path / "missing-folder").mkdir()
    with open_run(str(config), env, transport=neon_transport) as run:
        again = run.sync()
    assert again.errors == {} and again.failures == []
    assert {c.target: c.action for c in again.done} == {"broken": Action.CREATE}


def test_two_rules_giving_one_key_different_values_name_both(
    write_config: Callable[[str], Path],
    env: dict[str, str],
    neon_transport: httpx.MockTransport,
) -> None:
    config = write_config(
        HEAD
        + """\
  - match: main
    sync:
      - { target: local, vars: { DATABASE_URL: pooled } }
  - default: true
    sync:
      - { target: local, vars: { DATABASE_URL: direct } }
"""
    )
    with (
        open_run(str(config), env, transport=neon_transport) as run,
        pytest.raises(ConfigError) as err,
    ):
        run.plan()
    message = str(err.value)
    assert "neon-sync.yaml:14:48" in message and "neon-sync.yaml:17:48" in message


def test_the_same_value_from_two_rules_is_fine(
    write_config: Callable[[str], Path],
    env: dict[str, str],
    neon_transport: httpx.MockTransport,
) -> None:
    config = write_config(
        HEAD
        + """\
  - match: main
    sync:
      - { target: local, vars: { DATABASE_URL: pooled } }
  - default: true
    sync:
      - { target: local, vars: { DATABASE_URL: pooled } }
"""
    )
    with open_run(str(config), env, transport=neon_transport) as run:
        assert [c.key for c in run.plan().changes] == ["DATABASE_URL"]


def test_a_branch_without_compute_is_reported_not_skipped(
    neon: SeededNeon,
    write_config: Callable[[str], Path],
    env: dict[str, str],
    neon_transport: httpx.MockTransport,
) -> None:
    neon.add_branch(neon.project_id, "preview/no-compute", endpoints=())
    config = write_config(
        HEAD
        + """\
  - match: "preview/*"
    sync:
      - { target: local, vars: { DATABASE_URL: pooled } }
"""
    )
    with open_run(str(config), env, transport=neon_transport) as run:
        plan = run.plan()
    assert [(f.target, f.branch, f.key) for f in plan.failures] == [
        ("local", "preview/no-compute", "DATABASE_URL")
    ]
    assert "read_write compute" in plan.failures[0].message


def test_read_replica_asked_for_but_missing_is_reported(
    write_config: Callable[[str], Path],
    env: dict[str, str],
    neon_transport: httpx.MockTransport,
) -> None:
    config = write_config(
        HEAD
        + """\
  - match: main
    sync:
      - { target: local, vars: { READ_URL: { url: pooled, endpoint: read_only } } }
"""
    )
    with open_run(str(config), env, transport=neon_transport) as run:
        failures = run.plan().failures
    assert [(f.branch, f.key) for f in failures] == [("main", "READ_URL")]
    assert "read replica" in failures[0].message


def test_a_provider_that_is_not_installed_fails_only_its_target(
    monkeypatch: pytest.MonkeyPatch,
    write_config: Callable[[str], Path],
    env: dict[str, str],
    neon_transport: httpx.MockTransport,
    tmp_path: Path,
) -> None:
    monkeypatch.setitem(providers.REGISTRY, "netlify", "neon_sync.providers.netlify_not_here")
    config = write_config(
        HEAD.replace(
            "  broken:\n    provider: dotenv\n    path: missing-folder/.env\n",
            "  site:\n    provider: netlify\n    site: shop\n",
        )
        + """\
  - match: main
    sync:
      - { target: local, vars: { DATABASE_URL: pooled } }
      - { target: site, vars: { DATABASE_URL: pooled } }
"""
    )
    with open_run(str(config), env, transport=neon_transport) as run:
        outcome = run.sync()
    assert "not available in this version" in outcome.errors["site"]
    assert (tmp_path / ".env").exists()


def test_neon_rate_limits_and_outages_are_retried(
    neon: SeededNeon,
    write_config: Callable[[str], Path],
    env: dict[str, str],
    neon_transport: httpx.MockTransport,
    tmp_path: Path,
) -> None:
    config = write_config(
        HEAD + "  - match: main\n    sync:\n      - { target: local, vars: { U: pooled } }\n"
    )
    neon.inject(429, times=2, path="/branches$", headers={"retry-after": "3"})
    neon.inject(503, times=1, path="/endpoints$")
    neon.inject(423, times=1, path="/reveal_password$")
    waits: list[float] = []
    with open_run(str(config), env, transport=neon_transport, sleep=waits.append) as run:
        assert run.sync().errors == {}
    assert waits[:2] == [3.0, 3.0] and len(waits) == 4
    assert "U=" in (tmp_path / ".env").read_text()


def test_neon_down_for_good_is_a_clear_error_after_bounded_retries(
    neon: SeededNeon,
    write_config: Callable[[str], Path],
    env: dict[str, str],
    neon_transport: httpx.MockTransport,
) -> None:
    config = write_config(
        HEAD + "  - match: main\n    sync:\n      - { target: local, vars: { U: pooled } }\n"
    )
    neon.inject(503, times=100, path="/branches$")
    waits: list[float] = []
    with (
        open_run(str(config), env, transport=neon_transport, sleep=waits.append) as run,
        pytest.raises(ApiError) as err,
    ):
        run.plan()
    assert err.value.status == 503 and len(waits) == RETRY.attempts - 1
    assert str(err.value).startswith("Neon API: list the branches of project")


def test_url_prints_exactly_what_neon_gives(
    neon: SeededNeon,
    env: dict[str, str],
    neon_transport: httpx.MockTransport,
) -> None:
    pid = neon.project_id
    for branch in ("main", "dev/alice"):
        for pooled in (False, True):
            ours = connection_string(
                branch, pooled=pooled, project_id=pid, env=env, transport=neon_transport
            ).reveal()
            branch_id = neon.branch(pid, branch)["id"]
            theirs = (
                httpx.Client(transport=neon_transport)
                .get(
                    f"https://neon.test/api/v2/projects/{pid}/connection_uri",
                    params={
                        "branch_id": branch_id,
                        "database_name": "neondb",
                        "role_name": "neondb_owner",
                        "pooled": str(pooled).lower(),
                    },
                    headers={"authorization": f"Bearer {NEON_KEY}"},
                )
                .json()["uri"]
            )
            assert ours == theirs


def test_progress_is_reported_per_scope_written(
    write_config: Callable[[str], Path],
    env: dict[str, str],
    neon_transport: httpx.MockTransport,
    tmp_path: Path,
) -> None:
    (tmp_path / "missing-folder").mkdir()
    config = write_config(
        HEAD
        + """\
  - match: main
    sync:
      - { target: local, vars: { A: pooled } }
      - { target: broken, vars: { A: pooled } }
"""
    )
    seen: list[tuple[int, int]] = []
    with open_run(str(config), env, transport=neon_transport) as run:
        run.sync(progress=lambda done, total: seen.append((done, total)))
    assert sorted(seen) == [(1, 2), (2, 2)]
