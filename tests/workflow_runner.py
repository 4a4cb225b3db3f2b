"""Just enough of the GitHub Actions runner to run the example workflows and action.yml for
real: `${{ }}` expressions from a table of test values (an unknown one fails the test, so an
example cannot use what the tests do not cover), `if:` conditions, env at workflow, job and
step level, `run:` steps under `bash --noprofile --norc -eo pipefail` as GitHub runs them,
step outputs parsed from $GITHUB_OUTPUT in both its forms, and `uses: OWNER/neon-sync@v1`
expanded into action.yml's composite steps. actions/checkout, actions/setup-python and
actions/cache are no-ops: the test prepares the workspace, and the venv running the tests is
neon-sync's."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
EXAMPLES = ROOT / "examples"
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail"]
OUR_ACTION = re.compile(r"[\w.-]+/neon-sync@v\d+")
SKIPPED_ACTIONS = ("actions/checkout@", "actions/setup-python@", "actions/cache@")
_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
_OPERAND = re.compile(r"\s*('(?:[^']|'')*'|[A-Za-z_][\w.-]*)\s*")


def load(path: Path) -> dict[str, Any]:
    """A workflow or action file; PyYAML reads the key `on` as True (YAML 1.1), so put it back."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), f"{path}: not a mapping"
    if True in document:
        document["on"] = document.pop(True)
    return document


@dataclass
class Expressions:
    """`values` maps a context path (`github.event.number`, `secrets.NEON_API_KEY`,
    `steps.neon.outputs.branch_id`) to its value."""

    values: dict[str, str]

    def lookup(self, path: str) -> str:
        if path.startswith("steps.") and ".outputs." in path:
            return self.values.get(path, "")  # an output a step did not set is empty
        if path not in self.values:
            raise KeyError(f"expression {path!r} has no test value")
        return self.values[path]

    def operand(self, text: str) -> str:
        found = _OPERAND.fullmatch(text)
        if not found:
            raise ValueError(f"unsupported expression {text!r}")
        token = found.group(1)
        if token.startswith("'"):
            return token[1:-1].replace("''", "'")
        return self.lookup(token)

    def condition(self, expression: str) -> bool:
        """`a == 'b' && c != d`: what the examples use (comparisons ignore case, as GitHub's)."""
        inner = _EXPRESSION.fullmatch(expression.strip())
        text = inner.group(1) if inner else expression
        result = True
        for clause in text.split("&&"):
            parts = re.split(r"(==|!=)", clause)
            if len(parts) == 1:
                result = result and self.operand(clause) not in ("", "false", "0")
                continue
            if len(parts) != 3:
                raise ValueError(f"unsupported condition {clause!r}")
            left, op, right = self.operand(parts[0]), parts[1], self.operand(parts[2])
            same = left.casefold() == right.casefold()
            result = result and (same if op == "==" else not same)
        return result

    def substitute(self, text: Any) -> str:
        return _EXPRESSION.sub(lambda m: self.operand(m.group(1)), str(text))

    def mapping(self, raw: Mapping[str, Any] | None) -> dict[str, str]:
        return {str(k): self.substitute(v) for k, v in (raw or {}).items()}


@dataclass
class StepRun:
    name: str
    status: int
    log: str
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class JobRun:
    skipped: bool
    steps: list[StepRun] = field(default_factory=list)
    summary: str = ""

    @property
    def status(self) -> int:
        return next((step.status for step in self.steps if step.status), 0)

    @property
    def log(self) -> str:
        return "".join(step.log for step in self.steps)

    def step(self, name: str) -> StepRun:
        return next(step for step in self.steps if step.name == name)


def parse_outputs(text: str) -> dict[str, str]:
    """$GITHUB_OUTPUT: `name=value` lines and `name<<DELIMITER` ... `DELIMITER` blocks."""
    out: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            body: list[str] = []
            for row in lines:
                if row == delimiter:
                    break
                body.append(row)
            else:
                raise AssertionError(f"output {name!r}: no closing {delimiter!r}")
            out[name] = "\n".join(body)
        else:
            name, value = line.split("=", 1)
            out[name] = value
    return out


@dataclass
class Runner:
    """Runs jobs in `workspace` with `env` as the runner's own environment and `context`
    as the values of expressions. Files the runner provides live in `temp`."""

    workspace: Path
    env: dict[str, str]
    context: dict[str, str]
    temp: Path
    python: str = sys.executable  # what actions/setup-python "installs"
    _count: int = 0

    def run_job(self, workflow: Mapping[str, Any], job_id: str) -> JobRun:
        job = workflow["jobs"][job_id]
        values = Expressions(dict(self.context))
        if "if" in job and not values.condition(str(job["if"])):
            return JobRun(skipped=True)
        summary = self._file("summary")
        env = {**values.mapping(workflow.get("env")), **values.mapping(job.get("env"))}
        result = JobRun(skipped=False)
        for index, step in enumerate(job["steps"]):
            step_id = str(step.get("id") or f"step{index}")
            if "if" in step and not values.condition(str(step["if"])):
                continue
            step_env = {**env, **values.mapping(step.get("env"))}
            run = self._step(step, step_id, values, step_env, summary)
            result.steps.append(run)
            for name, value in run.outputs.items():
                values.values[f"steps.{step_id}.outputs.{name}"] = value
            if run.status:
                break  # later steps have the default `if: success()`
        result.summary = summary.read_text(encoding="utf-8")
        return result

    def run_action(
        self,
        with_: Mapping[str, str],
        env: Mapping[str, str] | None = None,
        summary: Path | None = None,
    ) -> StepRun:
        """`uses: OWNER/neon-sync@v1` with these inputs: action.yml's composite steps."""
        action = load(ACTION)
        inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
        unknown = set(with_) - set(inputs)
        assert not unknown, f"action.yml has no input {sorted(unknown)}"
        inputs.update(with_)
        values = Expressions({f"inputs.{k}": v for k, v in inputs.items()})
        values.values["github.action_path"] = str(ROOT)
        summary = summary or self._file("summary")
        log, status = "", 0
        for index, step in enumerate(action["runs"]["steps"]):
            step_id = str(step.get("id") or f"step{index}")
            step_env = {**(env or {}), **values.mapping(step.get("env"))}
            run = self._step(step, step_id, values, step_env, summary)
            log += run.log
            for name, value in run.outputs.items():
                values.values[f"steps.{step_id}.outputs.{name}"] = value
            if run.status:
                status = run.status
                break
        outputs = {
            name: values.substitute(spec["value"]) for name, spec in action["outputs"].items()
        }
        return StepRun("neon-sync", status, log, outputs)

    def _step(
        self,
        step: Mapping[str, Any],
        step_id: str,
        values: Expressions,
        env: dict[str, str],
        summary: Path,
    ) -> StepRun:
        uses = str(step.get("uses", ""))
        if uses.startswith(SKIPPED_ACTIONS):
            # setup-python's one output the action reads.
            return StepRun(step_id, 0, "", {"python-path": self.python})
        if OUR_ACTION.fullmatch(uses):
            run = self.run_action(values.mapping(step.get("with")), env, summary)
            return StepRun(step_id, run.status, run.log, run.outputs)
        assert not uses, f"the tests cannot run action {uses!r}"
        assert step.get("shell", "bash") == "bash", step
        script = self._file("script")
        script.write_text(values.substitute(step["run"]), encoding="utf-8")
        output = self._file("output")
        full_env = {
            **self.env,
            **env,
            "GITHUB_OUTPUT": str(output),
            "GITHUB_STEP_SUMMARY": str(summary),
            "GITHUB_WORKSPACE": str(self.workspace),
            "RUNNER_TEMP": str(self.temp),
        }
        done = subprocess.run(
            [*BASH, str(script)],
            cwd=self.workspace,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
            check=False,
        )
        outputs = parse_outputs(output.read_text(encoding="utf-8"))
        return StepRun(step_id, done.returncode, done.stdout, outputs)

    def _file(self, kind: str) -> Path:
        self._count += 1
        path = self.temp / f"{kind}-{self._count}"
        path.write_text("", encoding="utf-8")
        return path
