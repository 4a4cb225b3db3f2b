"""Shared fixtures: small builders for emulators, config files and CLI runs."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from sync.emulator.neon import NeonEmulator
from sync.emulator.server import serve
from tests.openapi_check import validating

SPECS = Path(__file__).parent / "specs"
NEON_KEY = "neon-test-key"
App = Callable[[httpx.Request], httpx.Response]


@dataclass
class Served:
    """An emulator on loopback whose every request was checked against the API spec."""

    url: str
    violations: list[str] = field(default_factory=list)


def checked(app: App, spec: Path, prefix: str, violations: list[str]) -> App:
    """Validate against the spec; a violation answers 500 and is kept for the test to fail on
    (an assertion raised in the server thread would only look like a network error)."""
    inner = validating(app, spec, prefix)

    def handle(request: httpx.Request) -> httpx.Response:
        try:
            return inner(request)
        except AssertionError as exc:
            violations.append(str(exc))
            return httpx.Response(500, json={"message": "request violates the spec"})

    return handle


@pytest.fixture
def neon() -> NeonEmulator:
    """The demo project: main, preview/feature-login, dev/alice (read replica, analyst role,
    analytics database). Its id is `neon.project_id`."""
    emu = NeonEmulator(api_key=NEON_KEY, seed=1)
    emu.project_id = emu.seed_demo()  # type: ignore[attr-defined]
    return emu


@pytest.fixture
def neon_served(neon: NeonEmulator) -> Iterator[Served]:
    violations: list[str] = []
    app = checked(neon.handle, SPECS / "neon-api-v2.yaml", "/api/v2", violations)
    with serve(app) as url:
        served = Served(url + "/api/v2", violations)
        yield served
    assert not violations, violations[0]


@pytest.fixture
def neon_env(neon: NeonEmulator, neon_served: Served) -> dict[str, str]:
    """The only settings a user gives to reach Neon."""
    return {
        "NEON_API_HOST": neon_served.url,
        "NEON_API_KEY": NEON_KEY,
        "NEON_PROJECT_ID": neon.project_id,  # type: ignore[attr-defined]
    }


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str, name: str = "neon-sync.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., Result]:
    """Run the CLI in-process with exactly `env` on top of a scrubbed environment, in `cwd`."""
    for name in list(os.environ):
        if name.startswith(("NEON_", "GITHUB_", "GH_", "VERCEL_")):
            monkeypatch.delenv(name)
    saved = dict(os.environ)

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> Result:
        from sync.cli import app

        monkeypatch.chdir(cwd or tmp_path)
        try:
            os.environ.update(env or {})
            result = CliRunner().invoke(app, list(args), catch_exceptions=False)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        return Result(result.exit_code, result.stdout, result.stderr)

    return run


def python() -> str:
    return sys.executable
