"""The habits users bring from other CLIs: -h, completion, readable metavars, --json on the
commands scripts read (errors included), and `branch delete` saying what it removed."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import NEON_KEY, Result, SeededNeon

Cli = Callable[..., Result]
COMMANDS = [
    [], ["plan"], ["sync"], ["url"], ["env"], ["run"], ["branches"], ["validate"], ["demo"],
    ["init"], ["schema"], ["branch", "create"], ["branch", "delete"], ["rotate"], ["watch"],
]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "neon-sync")
def test_dash_h_shows_help_with_named_metavars(run_cli: Cli, command: list[str]) -> None:
    result = run_cli(*command, "-h")
    assert result.exit_code == 0, result.output
    assert "Usage: neon-sync" in result.stdout
    options = result.stdout.split("Options:", 1)[-1]
    assert not re.search(r"<(str|list\[str\])>", options), options


def test_shell_completion_is_offered(run_cli: Cli) -> None:
    out = run_cli("--help").stdout
    assert "--install-completion" in out and "--show-completion" in out


def test_url_json_gives_the_parts_and_the_password_only_inside_the_url(
    run_cli: Cli, neon: SeededNeon, neon_env: dict[str, str]
) -> None:
    result = run_cli("url", "dev/alice", "--pooled", "--json", env=neon_env)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    endpoint = neon.endpoint(neon.project_id, "dev/alice")
    assert doc["host"] == endpoint["host"] and doc["endpoint_id"] == endpoint["id"]
    assert doc["pooled_host"] == endpoint["host"].replace(".", "-pooler.", 1)
    assert (doc["role"], doc["database"], doc["branch"]) == ("neondb_owner", "neondb", "dev/alice")
    password = neon.password(neon.project_id, "dev/alice", "neondb_owner")
    assert [k for k, v in doc.items() if password in str(v)] == ["url"]
    assert doc["url"].startswith(f"postgresql://neondb_owner:{password}@{doc['pooled_host']}/")


def test_validate_json_reports_success_and_errors_as_documents(
    run_cli: Cli, write_config: Callable[..., Path]
) -> None:
    path = write_config(
        "version: 1\nneon: { project_id: p-x }\ntargets: { l: { provider: dotenv, path: .env } }\n"
        "branches:\n  - match: main\n    sync: [{ target: l, vars: { A: pooled } }]\n"
    )
    ok = run_cli("validate", "--json")
    assert ok.exit_code == 0
    assert json.loads(ok.stdout) == {"config": str(path), "valid": True, "rules": 1}
    path.write_text(path.read_text().replace("path: .env", "pth: .env"))
    bad = run_cli("validate", "--json")
    assert bad.exit_code == 2
    error = json.loads(bad.stdout)["error"]
    assert error["where"] == f"{path}:3:35" and error["exit_code"] == 2
    assert error["message"].startswith("unknown key 'pth'") and error["kind"] == "ConfigError"


def test_errors_of_url_json_and_branches_json_are_json_on_stdout(run_cli: Cli) -> None:
    for args in (["url", "--json"], ["branches", "--json"]):
        result = run_cli(*args, env={"NEON_API_KEY": NEON_KEY})
        assert result.exit_code == 2, args
        assert json.loads(result.stdout)["error"]["exit_code"] == 2
