"""action.yml and action/run.sh: the composite action run as the runner would run it (see
tests/workflow_runner.py) against the Neon emulator over loopback, with a .env target."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import NEON_KEY, SeededNeon, Served
from tests.test_examples import instant_operations
from tests.workflow_runner import ACTION, ROOT, Runner, StepRun, load, parse_outputs

RUN_SH = ROOT / "action" / "run.sh"
OUTPUTS = (
    *("branch_id", "created", "db_url", "db_url_pooled", "db_host", "db_host_pooled"),
    *("password", "changes", "url"),
)
CONFIG = """\
version: 1
neon:
  project_id: ${NEON_PROJECT_ID}
targets:
  local: { provider: dotenv, path: .env }
branches:
  - match: main
    sync: [{ target: local, vars: { DATABASE_URL: pooled } }]
  - match: "preview/{name}"
    sync: [{ target: local, path: ".env.{name}", vars: { DATABASE_URL: pooled } }]
"""


@dataclass
class Action:
    runner: Runner
    neon: SeededNeon
    secrets: dict[str, str]  # what a workflow passes in the step's env

    @property
    def project_id(self) -> str:
        return str(self.neon.project_id)

    def __call__(self, **with_: str) -> StepRun:
        return self.runner.run_action(with_, self.secrets)

    def branch_names(self) -> list[str]:
        with self.neon.lock:
            project = self.neon.project_row(self.project_id)
            return sorted(branch.name for branch in project.branches.values())


def runner_env(venv: Path, **extra: str) -> dict[str, str]:
    path = f"{venv / 'bin'}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
    return {"PATH": path, "LANG": "C.UTF-8", "GITHUB_ACTIONS": "true", **extra}


@pytest.fixture
def action(
    neon: SeededNeon,
    neon_served: Served,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Action:
    instant_operations(neon, monkeypatch)
    workspace, temp = tmp_path / "workspace", tmp_path / "temp"
    workspace.mkdir()
    temp.mkdir()
    (workspace / "neon-sync.yaml").write_text(CONFIG, encoding="utf-8")
    env = runner_env(
        Path(sys.prefix),
        HOME=str(tmp_path),
        NEON_API_HOST=neon_served.url,
        NEON_SYNC_VENV=sys.prefix,  # installed already: the venv running these tests
    )
    runner = Runner(workspace, env, {}, temp)
    secrets = {"NEON_API_KEY": NEON_KEY, "NEON_PROJECT_ID": neon.project_id}
    return Action(runner, neon, secrets)


# -- the file --------------------------------------------------------------------------------


def test_action_yml_is_a_composite_whose_outputs_come_from_run_sh() -> None:
    action = load(ACTION)
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == {
        *("command", "config", "branch", "args", "python-version"),
        # the names of Neon's create-branch-action
        *("branch_name", "api_key", "project_id", "parent_branch", "expires_at", "role"),
    }
    assert action["inputs"]["command"]["default"] == "sync"
    steps = {step["id"]: step for step in action["runs"]["steps"]}
    assert steps["python"]["uses"].startswith("actions/setup-python@")
    for step in action["runs"]["steps"]:  # third-party actions pinned by commit
        assert re.fullmatch(r"[\w-]+/[\w-]+@[0-9a-f]{40}", step.get("uses", "a/b@" + "0" * 40))
    assert steps["pip-cache"]["with"]["path"] == "${{ runner.temp }}/neon-sync-pip"
    assert steps["python"]["with"]["update-environment"] is False  # the caller's PATH stays
    assert "action/run.sh" in steps["run"]["run"] and steps["run"]["shell"] == "bash"
    assert {name: spec["value"] for name, spec in action["outputs"].items()} == {
        name: f"${{{{ steps.run.outputs.{name} }}}}" for name in OUTPUTS
    }
    used = set(re.findall(r"\$\{\{\s*inputs\.([\w-]+)\s*\}\}", ACTION.read_text()))
    assert used == set(action["inputs"])
    # Inputs reach the script through env only: none is spliced into shell code.
    assert "${{" not in steps["run"]["run"]


def test_run_sh_is_executable_in_git() -> None:
    mode = subprocess.run(
        ["git", "ls-files", "--stage", "action/run.sh"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    assert mode and mode[0] == "100755", mode
    assert RUN_SH.stat().st_mode & stat.S_IXUSR


# -- running it ------------------------------------------------------------------------------


def test_sync_sets_changes_to_the_json_changes_and_no_branch_id(action: Action) -> None:
    step = action(command="sync")
    assert step.status == 0, step.log
    changes = json.loads(step.outputs["changes"])
    assert [(c["branch"], c["key"], c["action"]) for c in changes] == [
        ("main", "DATABASE_URL", "create"),
        ("preview/feature-login", "DATABASE_URL", "create"),
    ]
    assert step.outputs["branch_id"] == ""
    assert (action.runner.workspace / ".env").exists()


def test_branch_create_sets_branch_id_of_the_branch_it_made(action: Action) -> None:
    step = action(command="branch create", branch="preview/pr-7", args="--expires-in 7d")
    assert step.status == 0, step.log
    made = action.neon.branch(action.project_id, "preview/pr-7")
    assert step.outputs["branch_id"] == made["id"] and made["expires_at"]
    assert [c["key"] for c in json.loads(step.outputs["changes"])] == ["DATABASE_URL"]
    assert (action.runner.workspace / ".env.pr-7").exists()


def test_branch_from_a_pull_request_is_passed_as_data_never_run(action: Action) -> None:
    name = "preview/$(touch pwned)`touch pwned2`;x"
    step = action(command="branch create", branch=name)
    assert step.status == 0, step.log
    assert name in action.branch_names()
    workspace = action.runner.workspace
    assert not (workspace / "pwned").exists() and not (workspace / "pwned2").exists()
    assert (workspace / ".env.$(touch pwned)`touch pwned2`;x").exists()


def test_plan_with_exit_code_fails_the_step_with_3_and_still_reports_changes(
    action: Action,
) -> None:
    step = action(command="plan", args="--exit-code", branch="main")
    assert step.status == 3
    assert [c["branch"] for c in json.loads(step.outputs["changes"])] == ["main"]


def test_config_error_fails_the_step_with_2_and_sets_no_outputs(action: Action) -> None:
    (action.runner.workspace / "broken.yaml").write_text("version: 7\n", encoding="utf-8")
    step = action(command="sync", config="broken.yaml")
    assert step.status == 2
    assert step.outputs == dict.fromkeys(OUTPUTS, "")
    assert "::error title=neon-sync::" in step.log


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"command": "deploy"}, "unknown command 'deploy'"),
        ({"command": "branch delete"}, "'branch delete' needs the input 'branch'"),
        ({"command": "validate", "branch": "main"}, "input 'branch' means nothing"),
    ],
)
def test_misused_inputs_fail_with_an_annotation_before_anything_runs(
    action: Action, inputs: dict[str, str], message: str
) -> None:
    step = action(**inputs)
    assert step.status == 2
    assert f"::error title=neon-sync action::{message}" in step.log
    assert action.neon.log == []


def test_url_sets_the_connection_string_and_its_password_is_masked_first(action: Action) -> None:
    step = action(command="url", branch="main", args="--pooled")
    assert step.status == 0, step.log
    password = action.neon.password(action.project_id, "main", "neondb_owner")
    assert step.outputs["url"].startswith("postgresql://neondb_owner:" + password + "@")
    assert "-pooler." in step.outputs["url"]
    lines = step.log.splitlines()
    assert f"::add-mask::{password}" in lines
    first = lines.index(f"::add-mask::{password}")
    assert all(line.startswith("::add-mask::") for line in lines if password in line)
    assert all(password not in line for line in lines[:first])
    assert step.outputs["password"] == password
    assert step.outputs["db_url_pooled"] == step.outputs["url"]


def test_outputs_survive_values_on_many_lines() -> None:
    text = "a=1\nchanges<<EOF_x\n[1,\n2]\nEOF_x\nb<<Z\n\nZ\n"
    assert parse_outputs(text) == {"a": "1", "changes": "[1,\n2]", "b": ""}


# -- installing ------------------------------------------------------------------------------


def fake_python(tmp_path: Path) -> tuple[Path, Path]:
    """A `python3` whose `-m venv DIR` makes a venv whose pip records its arguments and
    "installs" neon-sync by linking the real one: the install path without the network."""
    record = tmp_path / "pip-calls"
    python = tmp_path / "fake-python"
    real = Path(sys.prefix) / "bin"
    python.write_text(
        "#!/usr/bin/env bash\n"
        'set -e; [ "$1 $2" = "-m venv" ]; mkdir -p "$3/bin"\n'
        f'ln -s {real}/neon-sync "$3/bin/neon-sync.real"\n'
        f'cat > "$3/bin/python" <<EOF\n'
        "#!/usr/bin/env bash\n"
        'if [ "\\$1 \\$2" = "-m pip" ]; then\n'
        f'  echo "\\$@" >> {record}; ln -s neon-sync.real "$3/bin/neon-sync"; exit 0\n'
        "fi\n"
        f'exec {real}/python "\\$@"\n'
        "EOF\n"
        'chmod +x "$3/bin/python"\n',
        encoding="utf-8",
    )
    python.chmod(0o755)
    return python, record


def test_first_use_installs_from_the_actions_checkout_and_a_second_reuses_it(
    action: Action, tmp_path: Path
) -> None:
    python, record = fake_python(tmp_path)
    runner = action.runner
    del runner.env["NEON_SYNC_VENV"]  # the default: a venv under $RUNNER_TEMP
    runner.python = str(python)  # what setup-python answers; the action must use it
    for _ in range(2):
        step = runner.run_action({"command": "validate"}, action.secrets)
        assert step.status == 0, step.log
    calls = record.read_text().splitlines()
    assert calls == [f"-m pip install --quiet --disable-pip-version-check {ROOT}[github]"]
    assert (runner.temp / "neon-sync-venv" / "bin" / "neon-sync").exists()


# -- Neon's create-branch-action names -------------------------------------------------------


def test_branch_create_with_neons_input_names_sets_neons_outputs_masked(action: Action) -> None:
    secrets, action.secrets = action.secrets, {}  # the key and project come as inputs here
    step = action(
        command="branch create",
        api_key=secrets["NEON_API_KEY"],
        project_id=secrets["NEON_PROJECT_ID"],
        branch_name="preview/pr-8",
        parent_branch="preview/feature-login",
        expires_at="2099-01-31T12:00:00Z",
    )
    assert step.status == 0, step.log
    made = action.neon.branch(action.project_id, "preview/pr-8")
    parent = action.neon.branch(action.project_id, "preview/feature-login")
    assert made["parent_id"] == parent["id"] and made["expires_at"]
    assert (step.outputs["branch_id"], step.outputs["created"]) == (made["id"], "true")
    host = action.neon.endpoint(action.project_id, "preview/pr-8")["host"]
    password = action.neon.password(action.project_id, "preview/pr-8", "neondb_owner")
    pooled_host = host.replace(".", "-pooler.", 1)
    assert step.outputs["db_host"] == host and step.outputs["db_host_pooled"] == pooled_host
    assert step.outputs["password"] == password
    tail = "/neondb?sslmode=require&channel_binding=require"
    assert step.outputs["db_url"] == f"postgresql://neondb_owner:{password}@{host}{tail}"
    assert (
        step.outputs["db_url_pooled"] == f"postgresql://neondb_owner:{password}@{pooled_host}{tail}"
    )
    lines = step.log.splitlines()
    for name in ("db_url", "db_url_pooled", "password", "db_host", "db_host_pooled"):
        assert f"::add-mask::{step.outputs[name]}" in lines
    assert f"::add-mask::{secrets['NEON_API_KEY']}" == lines[0]
    assert all(line.startswith("::add-mask::") for line in lines if password in line)
    again = action(
        command="branch create", api_key=secrets["NEON_API_KEY"],
        project_id=secrets["NEON_PROJECT_ID"], branch_name="preview/pr-8",
    )  # fmt: skip
    assert again.status == 0 and again.outputs["created"] == "false"


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"command": "sync", "parent_branch": "main"}, "are for 'branch create'"),
        ({"command": "branch create", "branch": "a", "branch_name": "b"}, "differ"),
        ({"command": "branch create", "branch": "a", "expires_at": "2001-01-01T00:00:00Z"},
         "expires_at must be a future RFC 3339 time"),
    ],
)  # fmt: skip
def test_neon_style_inputs_that_cannot_apply_fail_before_anything_runs(
    action: Action, inputs: dict[str, str], message: str
) -> None:
    step = action(**inputs)
    assert step.status == 2 and message in step.log, step.log
    assert action.neon.writes == []


# -- Windows runners: a venv keeps its programs in Scripts/ ----------------------------------


def test_on_a_windows_layout_venv_the_action_runs_scripts_exe(tmp_path: Path) -> None:
    """The venv as Windows makes it (Scripts/neon-sync.exe, Scripts/python.exe): run.sh must
    find both there, install nothing, and pass the outputs through."""
    venv = tmp_path / "venv"
    scripts = venv / "Scripts"
    scripts.mkdir(parents=True)
    calls = tmp_path / "calls"
    neon_sync = scripts / "neon-sync.exe"
    neon_sync.write_text(
        "#!/usr/bin/env bash\n"
        f'echo "$@" >> {calls}\n'
        'echo \'{"branch": {"id": "br-win-1", "created": true}, "changes": []}\'\n',
        encoding="utf-8",
    )
    (scripts / "python.exe").symlink_to(sys.executable)
    neon_sync.chmod(0o755)
    output = tmp_path / "output"
    output.write_text("", encoding="utf-8")
    env = {
        "PATH": os.environ["PATH"],
        "NEON_SYNC_VENV": str(venv),
        "NEON_SYNC_PYTHON": "/nonexistent/python",  # making a venv would fail loudly
        "GITHUB_OUTPUT": str(output),
        "INPUT_COMMAND": "sync",
        "INPUT_BRANCH": "main",
    }
    done = subprocess.run(
        ["bash", str(RUN_SH)], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert calls.read_text().splitlines() == ["sync --json --branch main"]
    assert not (venv / "bin").exists()
    assert parse_outputs(output.read_text()) == {"branch_id": "br-win-1", "changes": "[]"}
