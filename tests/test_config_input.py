"""Config input through the CLI: hostile or broken files end as one line, exit 2, fast; typos
in closed sets are caught by `validate` with the value, the choices and file:line:col."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result

BASE = """\
version: 1
neon:
  project_id: ${NEON_PROJECT_ID}
targets:
  local:
    provider: dotenv
    path: .env
  repo:
    provider: github
    repository: ${GITHUB_REPOSITORY}
branches:
  - match: main
    sync:
      - target: local
        vars:
          DATABASE_URL: pooled
"""
Run = Callable[..., Result]


def one_line_usage_error(result: Result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def validate(run_cli: Run, tmp_path: Path, content: str | bytes, *args: str) -> Result:
    path = tmp_path / "neon-sync.yaml"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return run_cli("validate", *args, env={"NEON_PROJECT_ID": "proj-x", "GITHUB_REPOSITORY": "o/r"})


def test_typo_of_direct_is_a_config_error_with_a_suggestion(run_cli: Run, tmp_path: Path) -> None:
    line = one_line_usage_error(
        validate(run_cli, tmp_path, BASE.replace("DATABASE_URL: pooled", "DATABASE_URL: dirct"))
    )
    assert "neon-sync.yaml:16:25: var DATABASE_URL: 'dirct' is not one of pooled, direct" in line
    assert "(did you mean 'direct'?)" in line and '{ value: "dirct" }' in line


@pytest.mark.parametrize("typo", ["pooler", "pooled_", "Pooled"])
def test_near_keywords_are_refused(run_cli: Run, tmp_path: Path, typo: str) -> None:
    text = BASE.replace("DATABASE_URL: pooled", f"DATABASE_URL: {typo}")
    assert "did you mean 'pooled'?" in one_line_usage_error(validate(run_cli, tmp_path, text))


def test_a_literal_value_is_written_as_a_mapping(run_cli: Run, tmp_path: Path) -> None:
    text = BASE.replace("DATABASE_URL: pooled", 'DATABASE_URL: { value: "dirct" }')
    assert validate(run_cli, tmp_path, text).exit_code == 0


@pytest.mark.parametrize(
    ("replacement", "expected"),
    [
        (
            "DATABASE_URL: { url: poold }",
            "16:32: url: 'poold' is not one of pooled, direct (did you mean 'pooled'?)",
        ),
        (
            "DATABASE_URL: { url: pooled, sslmode: requried }",
            "16:49: sslmode: 'requried' is not one of disable, allow, prefer, require, "
            "verify-ca, verify-full (did you mean 'require'?)",
        ),
        (
            "DATABASE_URL: { url: pooled, channel_binding: requre }",
            "16:57: channel_binding: 'requre' is not one of disable, prefer, require, omit "
            "(did you mean 'require'?)",
        ),
    ],
)
def test_enum_errors_name_the_value_and_the_choices(
    run_cli: Run, tmp_path: Path, replacement: str, expected: str
) -> None:
    text = BASE.replace("DATABASE_URL: pooled", replacement)
    assert expected in one_line_usage_error(validate(run_cli, tmp_path, text))


def test_neon_sslmode_and_provider_are_checked(run_cli: Run, tmp_path: Path) -> None:
    text = BASE.replace("  project_id:", "  sslmode: verify_full\n  project_id:")
    line = one_line_usage_error(validate(run_cli, tmp_path, text))
    assert ":3:12: neon.sslmode: 'verify_full' is not one of" in line
    assert "(did you mean 'verify-full'?)" in line
    line = one_line_usage_error(
        validate(run_cli, tmp_path, BASE.replace("provider: github", "provider: gihub"))
    )
    assert ":9:15: targets.repo.provider: 'gihub' is not one of dotenv, github, vercel" in line
    assert "(did you mean 'github'?)" in line


def test_validate_offline_needs_no_environment(run_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "neon-sync.yaml").write_text(BASE, encoding="utf-8")
    assert run_cli("validate", "--offline").exit_code == 0
    online = run_cli("validate")
    assert "environment variable NEON_PROJECT_ID is not set" in one_line_usage_error(online)
    (tmp_path / "neon-sync.yaml").write_text(BASE.replace(": pooled", ": dirct"), encoding="utf-8")
    assert "did you mean 'direct'?" in one_line_usage_error(run_cli("validate", "--offline"))


def test_neon_sync_yml_is_discovered(run_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "neon-sync.yml").write_text(BASE, encoding="utf-8")
    result = run_cli("validate", "--offline", cwd=tmp_path)
    assert result.exit_code == 0 and "neon-sync.yml: ok (1 rules)" in result.stderr
    (tmp_path / "neon-sync.yaml").write_text(BASE, encoding="utf-8")
    assert "keep one" in one_line_usage_error(run_cli("validate", "--offline"))


BOMB = """\
a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
"""


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (BOMB, "more than 20000 values (YAML aliases?)"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 64 levels deep"),
        (b"version: 1\nneon:\n  project_id: p\x00x\n", ":3:16: control character U+0000"),
        (b"version: 1\nneon: \x1b[31m\n", ":2:7: control character U+001B"),
        (b"version: 1\nneon:\n  project_id: \xff\xfe\n", ":3:15: the config file is not valid UTF"),
        ("version: 1\nneon: !!binary 'not base64 @@'\n", ":2:7: YAML tag !!binary is not"),
        ("version: !!int abc\n", ":1:10: the value does not fit its tag !!int"),
        ("version: 1\nneon: !secret hunter2\n", ":2:7: YAML tag !secret is not allowed"),
        ("version: 1\nneon: !!python/object:os.system x\n", "is not allowed here"),
    ],
)
def test_hostile_config_is_one_line_exit_2_and_fast(
    run_cli: Run, tmp_path: Path, content: str | bytes, expected: str
) -> None:
    started = time.monotonic()
    line = one_line_usage_error(validate(run_cli, tmp_path, content))
    assert time.monotonic() - started < 5
    assert expected in line


def test_yaml_errors_never_quote_the_line(run_cli: Run, tmp_path: Path) -> None:
    text = BASE.replace("path: .env", 'path: ".env\n    token: "s3cr3t-token-value: [x')
    line = one_line_usage_error(validate(run_cli, tmp_path, text))
    assert "invalid YAML" in line and "s3cr3t" not in line


def test_braces_that_are_not_a_capture_match_literally(run_cli: Run, tmp_path: Path) -> None:
    text = BASE.replace("match: main", 'match: "preview/{name}{}"')
    assert validate(run_cli, tmp_path, text).exit_code == 0
