"""sync.neon.NeonClient against the Neon emulator, every request checked against Neon's spec."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import httpx
import pytest

from neon_sync.emulators.neon import NeonEmulator
from neon_sync.emulators.server import serve
from neon_sync.errors import ApiError, ConfigError
from neon_sync.neon.client import RETRY, NeonClient
from neon_sync.secret import scrub
from tests.openapi_check import SPECS, validating

SPEC = SPECS / "neon-api-v2.yaml"
KEY = "napi_test_key_0123456789"
App = Callable[[httpx.Request], httpx.Response]
Make = Callable[..., NeonClient]


class Sleeps(list[float]):
    """A fake sleep that records what it was asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def emu() -> NeonEmulator:
    return NeonEmulator(api_key=KEY, seed=7)


@pytest.fixture
def pid(emu: NeonEmulator) -> str:
    return emu.add_project("proj-demo", name="shop")


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def make(emu: NeonEmulator, pid: str, sleeps: Sleeps) -> Iterator[Make]:
    clients: list[NeonClient] = []

    def make(
        project: str = pid, key: str = KEY, app: App | None = None, **kwargs: object
    ) -> NeonClient:
        transport = httpx.MockTransport(app or validating(emu.handle, SPEC))
        client = NeonClient(key, project, transport=transport, sleep=sleeps, **kwargs)  # type: ignore[arg-type]
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def requests_to(emu: NeonEmulator, suffix: str, method: str = "GET") -> int:
    return sum(1 for e in emu.log if e.method == method and e.path.endswith(suffix))


# -- reads ---------------------------------------------------------------------------------------


def test_branches_follow_cursors_over_several_pages(
    emu: NeonEmulator, pid: str, make: Make
) -> None:
    for n in range(6):
        emu.add_branch(pid, f"preview/pr-{n}", endpoints=())
    branches = make(page_size=2).branches()
    assert sorted(b.name for b in branches) == ["main"] + [f"preview/pr-{n}" for n in range(6)]
    pages = [e for e in emu.log if e.path.endswith("/branches")]
    assert len(pages) == 4  # 2 + 2 + 2 + 1
    assert all(p.query["limit"] == "2" for p in pages)
    assert "cursor" not in pages[0].query
    assert all("cursor" in p.query for p in pages[1:])


def test_branch_fields_come_from_neon(emu: NeonEmulator, pid: str, make: Make) -> None:
    child = emu.add_branch(pid, "dev/alice", protected=True)
    by_name = {b.name: b for b in make().branches()}
    main = emu.branch(pid, "main")
    assert by_name["main"].default and by_name["main"].parent_id is None
    assert by_name["dev/alice"].id == child
    assert by_name["dev/alice"].parent_id == main["id"]
    assert by_name["dev/alice"].protected and not by_name["dev/alice"].default
    assert by_name["dev/alice"].updated_at == emu.branch(pid, child)["updated_at"]


def test_paging_ends_on_an_empty_page_when_the_server_always_hands_out_a_cursor(make: Make) -> None:
    seen: list[str | None] = []

    def app(request: httpx.Request) -> httpx.Response:
        cursor = request.url.params.get("cursor")
        seen.append(cursor)
        stamp = "2024-01-01T00:00:00Z"
        items = {None: ["br-a-1"], "c1": ["br-b-2"], "c2": []}[cursor]
        body = {
            "branches": [
                {"id": i, "name": i, "created_at": stamp, "updated_at": stamp} for i in items
            ],
            "annotations": {},
            "pagination": {"next": {None: "c1", "c1": "c2", "c2": "c3"}[cursor]},
        }
        return httpx.Response(200, json=body)

    assert [b.id for b in make(app=app).branches()] == ["br-a-1", "br-b-2"]
    assert seen == [None, "c1", "c2"]


def test_lists_are_fetched_once_per_client_until_invalidated(
    emu: NeonEmulator, pid: str, make: Make
) -> None:
    client = make()
    client.branches()
    client.branches()
    client.endpoints()
    client.endpoints()
    assert requests_to(emu, "/branches") == 1
    assert requests_to(emu, "/endpoints") == 1
    client.invalidate()
    client.branches()
    assert requests_to(emu, "/branches") == 2


def test_endpoints_come_from_one_project_wide_request(
    emu: NeonEmulator, pid: str, make: Make
) -> None:
    emu.add_branch(pid, "preview/a")
    emu.add_branch(pid, "dev/bob")
    emu.add_endpoint(pid, "dev/bob", type="read_only")
    endpoints = make().endpoints()
    assert len(endpoints) == 4
    assert len(emu.log) == 1 and emu.log[0].path == f"/api/v2/projects/{pid}/endpoints"
    replica = next(e for e in endpoints if e.type == "read_only")
    assert replica.host == emu.endpoint(pid, "dev/bob", type="read_only")["host"]
    assert replica.branch_id == emu.branch(pid, "dev/bob")["id"]


def test_roles_and_databases_of_a_branch(emu: NeonEmulator, pid: str, make: Make) -> None:
    emu.add_role(pid, "main", "analyst")
    emu.add_database(pid, "main", "analytics", owner="analyst")
    main = emu.branch(pid, "main")["id"]
    client = make()
    assert sorted(r.name for r in client.roles(main)) == ["analyst", "neondb_owner"]
    assert {(d.name, d.owner_name) for d in client.databases(main)} == {
        ("neondb", "neondb_owner"),
        ("analytics", "analyst"),
    }


# -- passwords -----------------------------------------------------------------------------------


def test_passwords_reveal_each_distinct_pair_once(emu: NeonEmulator, pid: str, make: Make) -> None:
    branch_ids = [emu.add_branch(pid, f"preview/{n}") for n in range(3)]
    needed = [(b, "neondb_owner") for b in branch_ids] * 3
    client = make()
    found = client.passwords(needed)
    assert set(found) == set(needed)
    for branch_id in branch_ids:
        expected = emu.password(pid, branch_id, "neondb_owner")
        assert found[(branch_id, "neondb_owner")].reveal() == expected
    assert requests_to(emu, "/reveal_password") == 3
    client.password(branch_ids[0], "neondb_owner")
    client.passwords(needed)
    assert requests_to(emu, "/reveal_password") == 3


def test_passwords_are_revealed_concurrently_but_at_most_concurrency_at_once(
    emu: NeonEmulator, pid: str, make: Make
) -> None:
    branch_ids = [emu.add_branch(pid, f"preview/{n}", endpoints=()) for n in range(6)]
    barrier = threading.Barrier(3, timeout=10)  # passes only if 3 reveals are in flight
    active, peak, lock = 0, 0, threading.Lock()
    app = validating(emu.handle, SPEC)

    def gated(request: httpx.Request) -> httpx.Response:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        try:
            barrier.wait()
            return app(request)
        finally:
            with lock:
                active -= 1

    found = make(app=gated, concurrency=3).passwords((b, "neondb_owner") for b in branch_ids)
    assert len(found) == 6
    assert peak == 3


def test_one_failed_reveal_fails_the_batch_with_its_error(
    emu: NeonEmulator, pid: str, make: Make
) -> None:
    main = emu.branch(pid, "main")["id"]
    with pytest.raises(ApiError) as caught:
        make().passwords([(main, "neondb_owner"), (main, "ghost")])
    assert caught.value.status == 404
    assert "role 'ghost'" in str(caught.value)


def test_a_role_name_with_slash_and_space_stays_one_path_segment(
    emu: NeonEmulator, pid: str, make: Make
) -> None:
    emu.add_role(pid, "main", "app user/1")
    emu.set_password(pid, "main", "app user/1", "p@ss w/rd:x")
    main = emu.branch(pid, "main")["id"]
    assert make().password(main, "app user/1").reveal() == "p@ss w/rd:x"


def test_412_says_the_project_does_not_store_passwords(emu: NeonEmulator, make: Make) -> None:
    pid = emu.add_project("no-store", store_passwords=False)
    main = emu.branch(pid, "main")["id"]
    with pytest.raises(ApiError) as caught:
        make(project=pid).password(main, "neondb_owner")
    error = caught.value
    assert error.status == 412
    assert "passwords are not stored" in str(error)  # Neon's own message
    assert "does not store role passwords" in str(error)  # and what to do
    assert error.request_id and f"[request_id {error.request_id}]" in str(error)


# -- errors and retries --------------------------------------------------------------------------


def test_401_points_at_neon_api_key_without_showing_it(make: Make) -> None:
    with pytest.raises(ApiError) as caught:
        make(key="napi_wrong_key_987654321").branches()
    assert caught.value.status == 401
    assert "NEON_API_KEY" in str(caught.value)
    assert "napi_wrong_key_987654321" not in str(caught.value)


def test_404_on_the_project_points_at_project_id(make: Make) -> None:
    with pytest.raises(ApiError) as caught:
        make(project="no-such-project").branches()
    assert caught.value.status == 404
    assert "Check project_id" in str(caught.value)
    assert "project not found" in str(caught.value)


@pytest.mark.parametrize("status", [429, 503, 423])
def test_busy_answers_are_retried_honouring_retry_after(
    emu: NeonEmulator, pid: str, make: Make, sleeps: Sleeps, status: int
) -> None:
    emu.inject(status, times=2, path="/branches$", headers={"retry-after": "3"})
    assert [b.name for b in make().branches()] == ["main"]
    assert requests_to(emu, "/branches") == 3
    assert sleeps == [3.0, 3.0]


def test_retries_give_up_with_status_and_request_id(
    emu: NeonEmulator, pid: str, make: Make, sleeps: Sleeps
) -> None:
    body = {"code": "", "message": "service unavailable", "request_id": "req-42"}
    emu.inject(503, times=100, path="/endpoints$", body=body)
    with pytest.raises(ApiError) as caught:
        make().endpoints()
    error = caught.value
    assert (error.status, error.request_id) == (503, "req-42")
    assert "service unavailable" in str(error) and "[request_id req-42]" in str(error)
    assert requests_to(emu, "/endpoints") == RETRY.attempts  # the client's bound
    assert len(sleeps) == RETRY.attempts - 1


def test_no_error_text_holds_the_key_or_a_password(emu: NeonEmulator, pid: str, make: Make) -> None:
    main = emu.branch(pid, "main")["id"]
    password = emu.password(pid, "main", "neondb_owner")
    texts: list[str] = []
    closed = emu.add_project("closed", store_passwords=False)
    attempts: list[Callable[[], object]] = [
        lambda: make(key=KEY + "x").branches(),
        lambda: make().password(main, "ghost"),
        lambda: make(project=closed).password(emu.branch(closed, "main")["id"], "neondb_owner"),
        lambda: make().delete_branch(main),
    ]
    for attempt in attempts:
        with pytest.raises(ApiError) as caught:
            attempt()
        texts.append(str(caught.value))
    secret = make().password(main, "neondb_owner")
    uri = make().connection_uri(main, "neondb", "neondb_owner", pooled=False)
    texts += [repr(secret), str(secret), repr(uri), str(uri)]
    for text in texts:
        assert KEY not in text and password not in text, text
    scrubbed = scrub(f"x {KEY} {password} y")
    assert KEY not in scrubbed and password not in scrubbed and scrubbed.endswith(" y")


def test_project_id_is_checked_before_any_request(make: Make) -> None:
    with pytest.raises(ConfigError):
        make(project="../other")
    with pytest.raises(ConfigError):
        make(key="")


def test_requests_carry_the_bearer_key_and_ask_for_json(
    emu: NeonEmulator, pid: str, make: Make
) -> None:
    headers: list[httpx.Headers] = []
    app = validating(emu.handle, SPEC)

    def spy(request: httpx.Request) -> httpx.Response:
        headers.append(request.headers)
        return app(request)

    make(app=spy).branches()
    assert headers[0]["authorization"] == f"Bearer {KEY}"
    assert headers[0]["accept"] == "application/json"


# -- connection URIs -----------------------------------------------------------------------------


def test_connection_uri_is_neons_string_masked_for_display(
    emu: NeonEmulator, pid: str, make: Make
) -> None:
    emu.set_password(pid, "main", "neondb_owner", "p@ss w/rd")
    main = emu.branch(pid, "main")["id"]
    host = emu.endpoint(pid, "main")["host"]
    client = make()
    pooled = client.connection_uri(main, "neondb", "neondb_owner", pooled=True)
    pooler = host.replace(".", "-pooler.", 1)
    assert pooled.reveal() == (
        f"postgresql://neondb_owner:p%40ss%20w%2Frd@{pooler}/neondb"
        "?sslmode=require&channel_binding=require"
    )
    assert str(pooled) == (
        f"postgresql://neondb_owner:****@{pooler}/neondb?sslmode=require&channel_binding=require"
    )
    direct = client.connection_uri(main, "neondb", "neondb_owner", pooled=False)
    assert f"@{host}/" in direct.reveal()
    client.connection_uri(main, "neondb", "neondb_owner", pooled=True)
    assert requests_to(emu, "/connection_uri") == 2


# -- writes and operations -----------------------------------------------------------------------


def test_create_branch_waits_for_its_operations(
    emu: NeonEmulator, pid: str, make: Make, sleeps: Sleeps
) -> None:
    client = make()
    before = client.branches()
    branch = client.create_branch("preview/pr-7", parent_id=before[0].id)
    assert branch.name == "preview/pr-7" and branch.parent_id == before[0].id
    project = emu.projects[pid]
    ops = [op for op in project.operations.values() if op.branch_id == branch.id]
    assert ops and all(op.status == "finished" for op in ops)
    assert requests_to(emu, "/operations/" + ops[0].id) >= 1
    assert sleeps  # waited with the injected sleep
    assert emu.endpoint(pid, "preview/pr-7")["type"] == "read_write"
    assert {b.name for b in client.branches()} == {"main", "preview/pr-7"}
    # The create answer carried the owner's password: no reveal needed.
    owner = client.password(branch.id, "neondb_owner")
    assert owner.reveal() == emu.password(pid, branch.id, "neondb_owner")
    assert requests_to(emu, "/reveal_password") == 0


def test_a_failed_operation_is_an_error(emu: NeonEmulator, pid: str, make: Make) -> None:
    emu.operations_end_as = "failed"
    with pytest.raises(ApiError) as caught:
        make().create_branch("preview/broken")
    assert "failed" in str(caught.value)


def test_waiting_for_operations_is_bounded(
    emu: NeonEmulator, pid: str, make: Make, sleeps: Sleeps
) -> None:
    emu.operations_end_as = "running"  # never finish
    with pytest.raises(ApiError) as caught:
        make(operation_timeout=10.0).create_branch("preview/stuck")
    assert "still running" in str(caught.value)
    assert 10.0 <= sum(sleeps) < 20.0


def test_delete_branch_waits_and_a_gone_branch_is_fine(
    emu: NeonEmulator, pid: str, make: Make
) -> None:
    doomed = emu.add_branch(pid, "preview/old")
    client = make()
    assert len(client.branches()) == 2
    client.delete_branch(doomed)
    assert doomed not in emu.projects[pid].branches
    assert all(op.status == "finished" for op in emu.projects[pid].operations.values())
    assert [b.name for b in client.branches()] == ["main"]
    client.delete_branch(doomed)  # 204: already gone
    emu.inject(404, path=f"/branches/{doomed}$")
    client.delete_branch(doomed)  # 404: gone too


def test_deleting_the_default_branch_is_refused(emu: NeonEmulator, pid: str, make: Make) -> None:
    with pytest.raises(ApiError) as caught:
        make().delete_branch(emu.branch(pid, "main")["id"])
    assert caught.value.status == 422


def test_reset_password_returns_the_new_password_once_applied(
    emu: NeonEmulator, pid: str, make: Make
) -> None:
    main = emu.branch(pid, "main")["id"]
    old = emu.password(pid, "main", "neondb_owner")
    client = make()
    before = {r.name: r.updated_at for r in client.roles(main)}
    assert client.password(main, "neondb_owner").reveal() == old
    new = client.reset_password(main, "neondb_owner")
    assert new.reveal() == emu.password(pid, "main", "neondb_owner") != old
    assert all(op.status == "finished" for op in emu.projects[pid].operations.values())
    assert client.password(main, "neondb_owner") == new
    assert requests_to(emu, "/reveal_password") == 1
    after = {r.name: r.updated_at for r in client.roles(main)}
    assert after["neondb_owner"] != before["neondb_owner"]


# -- over real HTTP ------------------------------------------------------------------------------


def test_the_client_works_over_loopback_http(emu: NeonEmulator, pid: str, sleeps: Sleeps) -> None:
    dev = emu.add_branch(pid, "dev/alice")
    with (
        serve(emu.handle) as url,
        NeonClient(KEY, pid, api_host=url + "/api/v2", sleep=sleeps) as client,
    ):
        assert {b.name for b in client.branches()} == {"main", "dev/alice"}
        assert len(client.endpoints()) == 2
        secret = client.password(dev, "neondb_owner")
        assert secret.reveal() == emu.password(pid, dev, "neondb_owner")
        created = client.create_branch("preview/http")
        assert created.id in emu.projects[pid].branches
