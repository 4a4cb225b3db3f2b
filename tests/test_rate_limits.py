"""Neon's published limits on our side (the limiter, on an injected clock) and on the
emulators' side (opt-in enforcement)."""

from __future__ import annotations

from bisect import bisect_right

import httpx

from neon_sync.emulators.github import GitHubEmulator
from neon_sync.emulators.limits import GITHUB, NEON, Window
from neon_sync.emulators.neon import NeonEmulator
from neon_sync.emulators.vercel import VercelEmulator
from neon_sync.neon.client import NeonClient
from neon_sync.neon.limiter import Limiter, Limits, route_of

REVEAL = "GET /api/v2/projects/*/branches/*/roles/*/reveal_password"


class Clock:
    """Time that moves only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def most_in_any(times: list[float], seconds: float) -> int:
    times = sorted(times)
    return max(bisect_right(times, t + seconds - 1e-9) - i for i, t in enumerate(times))


def send(limiter: Limiter, clock: Clock, route: str, count: int) -> list[float]:
    sent = []
    for _ in range(count):
        limiter.acquire(route)
        sent.append(clock.now)
        limiter.release(200, 0.05)
    return sent


def test_a_burst_of_1000_reveals_stays_under_both_published_limits() -> None:
    clock = Clock()
    limiter = Limiter(Limits(), clock=clock, sleep=clock.sleep)
    sent = send(limiter, clock, REVEAL, 1000)
    assert most_in_any(sent, 1.0) <= 40
    assert most_in_any(sent, 60.0) <= 700
    # ...and no slower than needed: 700 in the first minute, the rest as the window frees.
    assert 60.0 < sent[-1] < 70.0


def test_routes_have_their_own_burst_but_share_the_minute() -> None:
    clock = Clock()
    limiter = Limiter(Limits(), clock=clock, sleep=clock.sleep)
    sent: dict[str, list[float]] = {"a": [], "b": []}
    for index in range(800):
        name = "ab"[index % 2]
        limiter.acquire(f"GET /{name}")
        sent[name].append(clock.now)
        limiter.release(200, 0.05)
    both = sent["a"] + sent["b"]
    assert most_in_any(both, 1.0) == 80  # 40 a second on each route
    assert most_in_any(sent["a"], 1.0) <= 40
    assert most_in_any(both, 60.0) <= 700


def test_in_flight_grows_while_answers_are_fast_and_halves_after_a_429() -> None:
    clock = Clock()
    limiter = Limiter(Limits(start=4), clock=clock, sleep=clock.sleep)
    send(limiter, clock, REVEAL, 60)
    grown = limiter.window
    assert grown > 8
    limiter.acquire(REVEAL)
    limiter.release(429, 0.05, pause=True)
    assert limiter.window == grown / 2
    assert limiter.throttled == 1
    before = clock.now
    limiter.acquire(REVEAL)  # Neon's window was fuller than ours: everyone waits a moment
    assert clock.now >= before + 0.1
    limiter.release(200, 0.05)
    slow = limiter.window
    limiter.acquire(REVEAL)
    limiter.release(200, 5.0)  # slow answers earn nothing
    assert limiter.window == slow


def test_route_of_blanks_ids_only() -> None:
    one = route_of("GET", "/api/v2/projects/p-1/branches/br-a/roles/x%2Fy/reveal_password")
    two = route_of("GET", "/api/v2/projects/p-1/branches/br-b/roles/app/reveal_password")
    assert one == two == REVEAL
    assert route_of("GET", "/api/v2/projects/p-1/branches") == "GET /api/v2/projects/*/branches"


def test_neon_emulator_refuses_the_41st_request_of_a_second_as_neon_does() -> None:
    clock = Clock()
    emu = NeonEmulator(api_key="k", seed=1)
    pid = emu.add_project("limits-project", name="limits")
    emu.enforce_limits(NEON, clock)
    client = httpx.Client(transport=httpx.MockTransport(emu.handle), base_url="https://neon.test")
    url = f"/api/v2/projects/{pid}/branches"
    headers = {"authorization": "Bearer k"}
    statuses = [client.get(url, headers=headers).status_code for _ in range(41)]
    assert statuses == [200] * 40 + [429]
    assert "retry-after" not in client.get(url, headers=headers).headers  # none documented
    clock.sleep(1.0)
    assert client.get(url, headers=headers).status_code == 200


def test_github_emulator_refuses_the_81st_write_of_a_minute_with_retry_after() -> None:
    clock = Clock()
    emu = GitHubEmulator(token="ghp_x")
    emu.add_repo("acme/shop")
    emu.enforce_limits(GITHUB, clock)
    client = httpx.Client(transport=httpx.MockTransport(emu.handle), base_url="https://gh.test")
    headers = {"authorization": "Bearer ghp_x"}
    url = "/repos/acme/shop/actions/variables"
    answers = [
        client.post(url, headers=headers, json={"name": f"V{i}", "value": "x"}) for i in range(81)
    ]
    assert {a.status_code for a in answers[:80]} == {201}
    assert answers[80].status_code == 403
    assert 0 < int(answers[80].headers["retry-after"]) <= 60
    assert client.get(url, headers=headers).status_code == 200  # reads are not content creation


def test_vercel_emulator_answers_its_rate_limited_shape() -> None:
    emu = VercelEmulator(token="vt_x")
    emu.add_project("shop")
    emu.enforce_limits([Window(1, 60.0, per_route=True)])
    client = httpx.Client(transport=httpx.MockTransport(emu.handle), base_url="https://v.test")
    headers = {"authorization": "Bearer vt_x"}
    assert client.get("/v10/projects/shop/env", headers=headers).status_code == 200
    refused = client.get("/v10/projects/shop/env", headers=headers)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert refused.json()["error"]["limit"]["remaining"] == 0


def test_client_reveals_many_passwords_against_enforced_limits_without_failing() -> None:
    # The published shape, scaled down in time so the test takes about a second.
    emu = NeonEmulator(api_key="k", seed=2)
    pid = emu.add_project("limits-project", name="limits")
    names = [f"preview/b{i:02d}" for i in range(60)]
    for name in names:
        emu.add_branch(pid, name, parent="main")
    emu.enforce_limits([Window(10, 0.2, per_route=True), Window(200, 5.0)])
    limits = Limits(per_route=10, route_window=0.2, total=200, total_window=5.0, guard=0.02)
    transport = httpx.MockTransport(emu.handle)
    with NeonClient("k", pid, transport=transport, limits=limits) as client:
        ids = {b.name: b.id for b in client.branches()}
        found = client.passwords((ids[name], "neondb_owner") for name in names)
    assert len(found) == 60
    assert found[(ids["preview/b07"], "neondb_owner")].reveal() == emu.password(
        pid, "preview/b07", "neondb_owner"
    )
    assert sum(entry.status == 429 for entry in emu.log) <= 2
