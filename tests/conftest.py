"""Shared fixtures: small builders for emulators, config files and CLI runs."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from neon_sync import secret
from neon_sync.emulators.neon import NeonEmulator
from neon_sync.emulators.server import serve
from tests.openapi_check import validating

SPECS = Path(__file__).parent / "specs"
NEON_KEY = "neon-test-key"
App = Callable[[httpx.Request], httpx.Response]


@dataclass(frozen=True)
class Served:
    url: str


class Violations(list[str]):
    """Requests an emulator found against its API spec. `guard` keeps them instead of raising:
    an assertion raised in a server thread would only look like a network error."""

    def guard(self, app: App) -> App:
        def handle(request: httpx.Request) -> httpx.Response:
            try:
                return app(request)
            except AssertionError as exc:
                self.append(str(exc))
                return httpx.Response(500, json={"message": "request violates the spec"})

        return handle


@pytest.fixture(autouse=True)
def _own_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no remembered secrets: values other tests generated (hypothesis
    passwords) must not decide how this test's output is scrubbed."""
    monkeypatch.setattr(secret, "_registry", secret._Registry())


@pytest.fixture
def violations() -> Iterator[Violations]:
    """Every emulator a test wires through this fails the test, at teardown, on a request
    that does not conform to the service's spec."""
    found = Violations()
    yield found
    assert not found, found[0]


class SeededNeon(NeonEmulator):
    """The Neon emulator holding the demo project: main, preview/feature-login, dev/alice
    (read replica, analyst role, analytics database)."""

    def __init__(self) -> None:
        super().__init__(api_key=NEON_KEY, seed=1)
        self.project_id = self.seed_demo()


@pytest.fixture
def neon() -> SeededNeon:
    return SeededNeon()


def neon_checked(neon: NeonEmulator, violations: Violations) -> App:
    return violations.guard(validating(neon.handle, SPECS / "neon-api-v2.yaml", "/api/v2"))


@pytest.fixture
def neon_served(neon: NeonEmulator, violations: Violations) -> Iterator[Served]:
    with serve(neon_checked(neon, violations)) as url:
        yield Served(url + "/api/v2")


@pytest.fixture
def neon_transport(neon: NeonEmulator, violations: Violations) -> httpx.MockTransport:
    """The Neon emulator in-process, reached as https://neon.test/api/v2."""
    return httpx.MockTransport(neon_checked(neon, violations))


@pytest.fixture
def neon_env(neon: SeededNeon, neon_served: Served) -> dict[str, str]:
    """The only settings a user gives to reach Neon."""
    return {
        "NEON_API_HOST": neon_served.url,
        "NEON_API_KEY": NEON_KEY,
        "NEON_PROJECT_ID": neon.project_id,
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
        from neon_sync.cli import app

        monkeypatch.chdir(cwd or tmp_path)
        try:
            os.environ.update(env or {})
            result = _runner().invoke(app, list(args), catch_exceptions=False)
        finally:
            os.environ.clear()
            os.environ.update(saved)
        return Result(result.exit_code, result.stdout, result.stderr)

    return run


class _Runner(CliRunner):
    """The captured stderr written through: click < 8.2 (which the lowest typer allowed may
    bring) reads it without a flush, and loses what was printed to it."""

    @contextlib.contextmanager
    def isolation(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        with super().isolation(*args, **kwargs) as streams:
            reconfigure = getattr(sys.stderr, "reconfigure", None)
            if reconfigure is not None:
                reconfigure(write_through=True)
            yield streams


def _runner() -> CliRunner:
    """stdout and stderr apart: click < 8.2 needs to be asked; later ones always do it."""
    try:
        return _Runner(mix_stderr=False)  # type: ignore[call-arg]
    except TypeError:
        return _Runner()


def python() -> str:
    return sys.executable


# Where neon-sync finds each service, as (setting, path under the host).
_URL_SETTINGS = {
    "neon": ("NEON_API_HOST", "/api/v2"),
    "github": ("GITHUB_API_URL", ""),
    "vercel": ("VERCEL_API_URL", ""),
}


def in_process(**apps: App) -> tuple[httpx.MockTransport, dict[str, str]]:
    """One in-process transport for several emulators, each at https://NAME.test, and the
    settings that point neon-sync at them (tokens are the caller's)."""
    services = {f"{name}.test": app for name, app in apps.items()}
    transport = httpx.MockTransport(lambda request: services[request.url.host](request))
    env = {}
    for name in apps:
        setting, path = _URL_SETTINGS[name]
        env[setting] = f"https://{name}.test{path}"
    return transport, env
