"""The fault matrix: every API (Neon, GitHub, Vercel) x every fault (429 with Retry-After,
500, 503, a dropped connection, a timeout) x every phase (a read; the service's first write).

Each case runs `neon-sync sync` through the CLI against in-process emulators while the fault
lasts, then once more without it. The first run ends in success or in one-line errors; the
second converges to exactly what a fault-free run leaves, with no key created twice and no
write repeated that the first run saw succeed. A dropped connection and a timeout land the
request first (the worst case: the write happened, the client never heard)."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from neon_sync.emulators.base import Emulator
from neon_sync.emulators.github import GitHubEmulator
from neon_sync.emulators.vercel import VercelEmulator
from neon_sync.engine import run as engine_run
from tests.conftest import NEON_KEY, Result, SeededNeon

GH_TOKEN = "ghp_faults_token_3141"
VERCEL_TOKEN = "vt_faults_token_2718"
TEAM = "team_acme"
ENV = {
    "NEON_API_HOST": "https://neon.test/api/v2",
    "NEON_API_KEY": NEON_KEY,
    "GITHUB_API_URL": "https://github.test",
    "GITHUB_TOKEN": GH_TOKEN,
    "VERCEL_API_URL": "https://vercel.test",
    "VERCEL_TOKEN": VERCEL_TOKEN,
}
CONFIG = """\
version: 1
neon:
  project_id: {project_id}
targets:
  local: {{ provider: dotenv, path: .env }}
  repo: {{ provider: github, repository: acme/shop }}
  shop: {{ provider: vercel, project: shop, team: {team} }}
branches:
  - match: main
    sync:
      - {{ target: local, vars: {{ DATABASE_URL: pooled }} }}
      - target: repo
        vars:
          DATABASE_URL: direct
          PGHOST: {{ value: "{{host}}", secret: false }}
      - target: shop
        environment: production
        vars: {{ DATABASE_URL: pooled, DATABASE_URL_UNPOOLED: direct }}
  - match: "preview/{{name}}"
    sync:
      - target: repo
        environment: "preview-{{name}}"
        vars: {{ DATABASE_URL: pooled, DIRECT_URL: direct }}
      - target: shop
        environment: preview
        git_branch: "{{name}}"
        vars: {{ DATABASE_URL: pooled, DATABASE_URL_UNPOOLED: direct }}
"""
# More than the client's 5 tries: the fault outlasts every retry of the first run.
LASTING = 10
RETRY_AFTER = 2.0
FAULTS = ["429", "500", "503", "drop", "timeout"]
# (service, phase); Neon is only read by `sync`.
PLACES = [
    ("neon", "read"),
    ("github", "read"),
    ("github", "write"),
    ("vercel", "read"),
    ("vercel", "write"),
]
# The read each service's fault hits: the listing every run needs.
READS = {"neon": r"/branches$", "github": r"/secrets$", "vercel": r"/env$"}


@dataclass
class Timeout:
    """Serve the next `times` matching requests, then raise ReadTimeout instead of answering."""

    host: str
    method: str
    path: str
    times: int


@dataclass
class World:
    """The three services in-process, as https://neon.test, github.test and vercel.test.
    `acknowledged` holds every write whose success reached the client, per run."""

    neon: SeededNeon
    github: GitHubEmulator = field(default_factory=lambda: GitHubEmulator(token=GH_TOKEN))
    vercel: VercelEmulator = field(default_factory=lambda: VercelEmulator(token=VERCEL_TOKEN))
    timeouts: list[Timeout] = field(default_factory=list)
    acknowledged: list[set[tuple[str, ...]]] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)  # what the run slept, instantly

    def __post_init__(self) -> None:
        self.github.add_repo("acme/shop")
        self.vercel.add_project("shop", team=TEAM)

    def emulator(self, service: str) -> Emulator:
        return {"neon": self.neon, "github": self.github, "vercel": self.vercel}[service]

    def handle(self, request: httpx.Request) -> httpx.Response:
        service = request.url.host.removesuffix(".test")
        timeout = self._take_timeout(service, request.method, request.url.path)
        response = self.emulator(service).handle(request)  # a `drop` fault raises here
        if timeout:
            raise httpx.ReadTimeout("injected timeout", request=request)
        if request.method != "GET" and response.is_success and self.acknowledged:
            self.acknowledged[-1].update(write_ids(service, request))
        return response

    def _take_timeout(self, host: str, method: str, path: str) -> bool:
        for timeout in self.timeouts:
            if (timeout.host, timeout.method) == (host, method) and re.search(timeout.path, path):
                timeout.times -= 1
                if timeout.times <= 0:
                    self.timeouts.remove(timeout)
                return True
        return False

    def clear_faults(self) -> None:
        self.timeouts.clear()
        for service in ("neon", "github", "vercel"):
            self.emulator(service).faults.clear()


def write_ids(service: str, request: httpx.Request) -> set[tuple[str, ...]]:
    """What one write request writes: a GitHub path (a variable's create names it in the body),
    or a Vercel key/target/git branch (an edit by its id)."""
    body: Any = json.loads(request.content) if request.content else None
    path = request.url.path
    if service == "github":
        if request.method == "POST" and isinstance(body, dict):
            path = f"{path}/{body['name']}"
        return {("github", request.method if request.method == "DELETE" else "set", path.upper())}
    entries = body if isinstance(body, list) else [body]
    if request.method == "POST":
        return {
            ("vercel", e["key"], "+".join(sorted(e["target"])), e.get("gitBranch") or "")
            for e in entries
        }
    return {("vercel", request.method, path)}


def holdings(world: World, folder: Path) -> dict[str, Any]:
    """What a user finds after a run: GitHub's plaintexts, Vercel's entries (a list: a key
    created twice shows up twice), the .env bytes."""
    repo = world.github.repos["acme/shop"]
    places = {"repo": repo.place} | {e.name: e.place for e in repo.environments.values()}
    github = {(s, n): i.value for s, p in places.items() for n, i in p.secrets.items()}
    github |= {(s, f"var:{n}"): i.value for s, p in places.items() for n, i in p.variables.items()}
    vercel = sorted(
        (e["key"], "+".join(sorted(e["target"])), e.get("gitBranch") or "", e["value"])
        for e in world.vercel.envs("shop")
    )
    dotenv = (folder / ".env").read_bytes() if (folder / ".env").exists() else None
    return {"github": github, "vercel": vercel, "dotenv": dotenv}


def secrets_of(world: World) -> set[str]:
    passwords = {
        role.password
        for project in world.neon.projects.values()
        for branch in project.branches.values()
        for role in branch.roles.values()
    }
    return {GH_TOKEN, VERCEL_TOKEN, NEON_KEY, *passwords}


Sync = Callable[[World, Path], Result]


@pytest.fixture
def sync(monkeypatch: pytest.MonkeyPatch, run_cli: Callable[..., Result]) -> Iterator[Sync]:
    """`neon-sync sync` in `folder` against `world`, waits instant."""
    current: list[World] = []
    real = engine_run.open_run

    def in_world(config_path: str | None, env: Any = None, **kwargs: Any) -> Any:
        transport = httpx.MockTransport(current[-1].handle)
        sleep = current[-1].waits.append
        return real(config_path, env, **{**kwargs, "transport": transport, "sleep": sleep})

    monkeypatch.setattr(engine_run, "open_run", in_world)

    def run(world: World, folder: Path) -> Result:
        folder.mkdir(exist_ok=True)
        config = CONFIG.format(project_id=world.neon.project_id, team=TEAM)
        (folder / "neon-sync.yaml").write_text(config, encoding="utf-8")
        current.append(world)
        world.acknowledged.append(set())
        return run_cli("sync", env={**ENV, "NEON_PROJECT_ID": world.neon.project_id}, cwd=folder)

    yield run


def inject(world: World, service: str, fault: str, method: str, path: str) -> None:
    if fault == "timeout":
        world.timeouts.append(Timeout(service, method, path, LASTING))
        return
    emulator = world.emulator(service)
    if fault == "drop":
        emulator.inject(200, times=LASTING, method=method, path=path, drop=True)
    elif fault == "429":
        retry_after = {"retry-after": str(int(RETRY_AFTER))}
        emulator.inject(429, times=LASTING, method=method, path=path, headers=retry_after)
    else:
        emulator.inject(int(fault), times=LASTING, method=method, path=path)


def first_write(emulator: Emulator) -> tuple[str, str]:
    """(method, exact path regex) of the first write a fault-free run sent this service."""
    entry = emulator.writes[0]
    return entry.method, "^" + re.escape(entry.path) + "$"


def assert_one_line_errors(result: Result, secrets: set[str]) -> None:
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    for secret in secrets:
        assert secret not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("neon-sync: error:")]
    if result.exit_code == 1:
        assert errors, result.stderr
    # Every line of stderr is a whole message of its own: no continuation, no dump.
    for line in result.stderr.splitlines():
        assert line.startswith("neon-sync: "), result.stderr


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize(
    ("service", "phase"), PLACES, ids=[f"{service}-{phase}" for service, phase in PLACES]
)
def test_a_fault_ends_in_one_line_errors_and_the_rerun_converges_without_duplicates(
    sync: Sync, tmp_path: Path, service: str, phase: str, fault: str
) -> None:
    neon = SeededNeon()
    reference = World(neon)
    assert sync(reference, tmp_path / "reference").exit_code == 0
    expected = holdings(reference, tmp_path / "reference")

    world = World(neon)
    if phase == "read":
        method, path = "GET", READS[service]
    else:
        method, path = first_write(reference.emulator(service))
    inject(world, service, fault, method, path)
    first = sync(world, tmp_path / "faulty")
    assert_one_line_errors(first, secrets_of(world))
    if first.exit_code == 1:
        assert {"neon": "Neon", "github": "GitHub", "vercel": "Vercel"}[service] in first.stderr
    if fault == "429":
        assert RETRY_AFTER in world.waits  # the service's wait was honoured (without sleeping)

    world.clear_faults()
    second = sync(world, tmp_path / "faulty")
    assert second.exit_code == 0, second.output
    assert holdings(world, tmp_path / "faulty") == expected

    # Each Vercel key/target/git branch and GitHub variable was created once, over both runs
    # (a create that landed though its answer was lost counts too).
    created = Counter(
        key
        for name in ("github", "vercel")
        for entry in world.emulator(name).writes
        if entry.method == "POST" and entry.status < 300
        for key in write_ids(name, _as_request(entry.method, entry.path, entry.body))
    )
    assert created, "the runs created nothing"
    assert all(count == 1 for count in created.values()), created
    # Nothing the first run saw written is written again.
    acknowledged, rewritten = world.acknowledged
    assert not acknowledged & rewritten, acknowledged & rewritten


def _as_request(method: str, path: str, body: Any) -> httpx.Request:
    content = json.dumps(body).encode() if body is not None else b""
    return httpx.Request(method, "https://x.test" + path, content=content)
