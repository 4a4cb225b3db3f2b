"""Fuzzing what a user (or an attacker with push access) controls: thousands of mutated
configs and state files through the CLI, in-process. Every run ends with exit 0 or 2 and,
when it fails, one line on stderr; never a traceback, never a hang."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import httpx
import typer.main
import typer.testing
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from neon_sync.cli import app
from neon_sync.engine import run as engine_run
from tests.conftest import NEON_KEY, SeededNeon

CONFIG = b"""\
version: 1
neon:
  project_id: ${NEON_PROJECT_ID}
  sslmode: require
targets:
  local: { provider: dotenv, path: .env }
  repo: { provider: github, repository: acme/shop }
branches:
  - match: main
    sync:
      - target: local
        vars:
          DATABASE_URL: pooled
          PGHOST: { value: "{host}", secret: false }
  - match: "preview/{name}"
    sync:
      - target: local
        path: ".env.{name}"
        preset: prisma
"""
STATE = (
    b'{"records": [{"branch": "main", "fingerprint": "0123456789abcdef0123456789abcdef", '
    b'"key": "DATABASE_URL", "marker": null, "options": {"path": ".env"}, "scope": ".env", '
    b'"target": "local"}], "version": 1}\n'
)
# Pieces that YAML, JSON and neon-sync's templates give meaning to.
TOKENS = [
    b"&a ", b"*a", b"<<: *a\n", b"!!binary ", b"!!int ", b"!custom ", b"!!python/name:os.system ",
    b"{", b"}", b"[", b"]", b": ", b"- ", b"\n  ", b"\t", b"\x00", b"\x1b", b"\xff", b"\xc3",
    b"'", b'"', b"#", b"|\n", b"${", b"${X}", b"{branch}", b"{nope}", b"%", b"\r", b"\\",
    b"null", b"true", b"1e999", b"-1", b"[]", b"{}", b'"records"', b'"version"', b"2",
    b"dirct", b"pooler", b"\xef\xbb\xbf", b"version: 1\n" * 3,
]  # fmt: skip

mutation = st.tuples(
    st.floats(0, 1), st.integers(0, 3), st.sampled_from(TOKENS), st.binary(max_size=6)
)


def mutate(data: bytes, mutations: list[tuple[float, int, bytes, bytes]]) -> bytes:
    for where, kind, token, noise in mutations:
        at = int(where * len(data))
        if kind == 0:
            data = data[:at] + token + data[at:]
        elif kind == 1:
            data = data[:at] + data[at + len(noise) + 1 :]
        elif kind == 2:
            data = data[:at] + noise + data[at + len(noise) :]
        else:
            data = data[:at] + data[at : at + 40] * 2 + data[at + 40 :]
    return data


@contextmanager
def folder() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        old = os.getcwd()
        os.chdir(name)
        try:
            yield Path(name)
        finally:
            os.chdir(old)


COMMAND = typer.main.get_command(app)


def check(args: list[str], env: dict[str, str]) -> None:
    # Typer rebuilds its click command on every invoke (most of a run's time): build it once.
    with mock.patch.object(typer.testing, "_get_command", lambda _: COMMAND):
        result = CliRunner().invoke(app, args, env=env, catch_exceptions=False)
    assert result.exit_code in (0, 2), (result.exit_code, result.output)
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@settings(
    max_examples=1000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.lists(mutation, min_size=1, max_size=6))
def test_mutated_configs_validate_to_exit_0_or_2_in_one_line(
    mutations: list[tuple[float, int, bytes, bytes]],
) -> None:
    with folder() as here:
        (here / "neon-sync.yaml").write_bytes(mutate(CONFIG, mutations))
        check(["validate", "--offline"], {"NEON_PROJECT_ID": "proj-x"})


def test_mutated_state_files_plan_to_exit_0_or_2_in_one_line() -> None:
    neon = SeededNeon()
    env = {
        "NEON_API_KEY": NEON_KEY,
        "NEON_PROJECT_ID": neon.project_id,
        "NEON_API_HOST": "https://neon.test/api/v2",
    }
    config = CONFIG.replace(b"  repo: { provider: github, repository: acme/shop }\n", b"")
    real_open_run = engine_run.open_run

    def in_process(config_path: str | None, env: Any = None, **kwargs: Any) -> Any:
        return real_open_run(config_path, env, **{**kwargs, "transport": transport})

    transport = httpx.MockTransport(neon.handle)

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(mutation, min_size=1, max_size=6))
    def run(mutations: list[tuple[float, int, bytes, bytes]]) -> None:
        with folder() as here:
            (here / "neon-sync.yaml").write_bytes(config)
            (here / ".neon-sync").mkdir()
            (here / ".neon-sync" / "state.json").write_bytes(mutate(STATE, mutations))
            check(["plan"], env)

    with mock.patch.object(engine_run, "open_run", in_process):
        run()
    assert neon.log and not [e for e in neon.log if e.method != "GET"]
