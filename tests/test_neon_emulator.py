"""The Neon emulator answers as console.neon.tech/api/v2 does: every request and answer that
goes through `api()` is checked against Neon's OpenAPI spec."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from neon_sync.emulators.neon import NeonEmulator
from tests.openapi_check import SPECS, validating

SPEC = SPECS / "neon-api-v2.yaml"
KEY = "test-key"
BRANCH_ID = re.compile(r"^br-[a-z]+-[a-z]+-[a-z0-9]{8}$")
ENDPOINT_ID = re.compile(r"^ep-[a-z]+-[a-z]+-[a-z0-9]{8}$")
PASSWORD = re.compile(r"^npg_[A-Za-z0-9]{12}$")


@pytest.fixture
def emu() -> NeonEmulator:
    return NeonEmulator(api_key=KEY, seed=3)


@pytest.fixture
def pid(emu: NeonEmulator) -> str:
    return emu.add_project("proj-demo", name="shop")


def api(
    emu: NeonEmulator, project: str, key: str | None = KEY, checked: bool = True
) -> httpx.Client:
    """A client of one project's routes; `checked=False` to send what the spec forbids."""
    headers = {"authorization": f"Bearer {key}"} if key else {}
    app = validating(emu.handle, SPEC) if checked else emu.handle
    return httpx.Client(
        base_url=f"https://console.neon.tech/api/v2/projects/{project}",
        transport=httpx.MockTransport(app),
        headers=headers,
    )


def all_pages(client: httpx.Client, **params: Any) -> tuple[list[str], int]:
    names: list[str] = []
    requests = 0
    while True:
        requests += 1
        body = client.get("/branches", params=params).json()
        names += [b["name"] for b in body["branches"]]
        if "next" not in body["pagination"]:
            return names, requests
        params["cursor"] = body["pagination"]["next"]


# -- ids, hosts, passwords -----------------------------------------------------------------------


def test_a_new_project_has_main_with_endpoint_owner_role_and_database(
    emu: NeonEmulator, pid: str
) -> None:
    with api(emu, pid) as client:
        branches = client.get("/branches").json()["branches"]
        assert [(b["name"], b["default"]) for b in branches] == [("main", True)]
        main = branches[0]["id"]
        assert BRANCH_ID.match(main)
        roles = client.get(f"/branches/{main}/roles").json()["roles"]
        assert [r["name"] for r in roles] == ["neondb_owner"]
        assert "password" not in roles[0]
        databases = client.get(f"/branches/{main}/databases").json()["databases"]
        assert [(d["name"], d["owner_name"]) for d in databases] == [("neondb", "neondb_owner")]
        (endpoint,) = client.get(f"/branches/{main}/endpoints").json()["endpoints"]
    assert endpoint["type"] == "read_write"
    assert ENDPOINT_ID.match(endpoint["id"])
    assert endpoint["host"] == f"{endpoint['id']}.c-2.us-east-2.aws.neon.tech"
    assert PASSWORD.match(emu.password(pid, "main", "neondb_owner"))


def test_get_project_reports_whether_passwords_are_stored(emu: NeonEmulator) -> None:
    pid = emu.add_project("closed", store_passwords=False)
    with api(emu, pid) as client:
        project = client.get(f"https://console.neon.tech/api/v2/projects/{pid}").json()["project"]
    assert (project["id"], project["store_passwords"]) == ("closed", False)


def test_child_branches_start_with_the_parents_roles_and_passwords(
    emu: NeonEmulator, pid: str
) -> None:
    emu.add_role(pid, "main", "analyst")
    child = emu.add_branch(pid, "dev/alice", parent="main")
    assert emu.password(pid, child, "analyst") == emu.password(pid, "main", "analyst")
    assert emu.branch(pid, child)["parent_id"] == emu.branch(pid, "main")["id"]


# -- listing and paging --------------------------------------------------------------------------


def test_branches_default_to_most_recently_updated_first(emu: NeonEmulator, pid: str) -> None:
    emu.add_branch(pid, "a")
    emu.add_branch(pid, "b")
    emu.set_password(pid, "main", "neondb_owner", "x" * 12)  # a role change, not a branch one
    with api(emu, pid) as client:
        body = client.get("/branches").json()
    assert [b["name"] for b in body["branches"]] == ["b", "a", "main"]
    assert body["pagination"] == {"sort_by": "updated_at", "sort_order": "desc"}
    assert body["annotations"] == {}


@pytest.mark.parametrize("sort_by", ["name", "created_at", "updated_at"])
@pytest.mark.parametrize("order", ["asc", "desc"])
def test_cursor_paging_returns_every_branch_once_in_order(
    emu: NeonEmulator, pid: str, sort_by: str, order: str
) -> None:
    for name in ["k", "c", "x", "a", "m"]:
        emu.add_branch(pid, f"b-{name}", endpoints=())
    with api(emu, pid) as client:
        everything = [
            b["name"]
            for b in client.get(
                "/branches", params={"sort_by": sort_by, "sort_order": order}
            ).json()["branches"]
        ]
        names, requests = all_pages(client, limit=2, sort_by=sort_by, sort_order=order)
    assert names == everything and len(names) == 6
    assert requests == 3
    if sort_by == "name":
        assert names == sorted(names, reverse=order == "desc")


def test_a_foreign_or_broken_cursor_is_a_400(emu: NeonEmulator, pid: str) -> None:
    emu.add_branch(pid, "x")
    with api(emu, pid) as client:
        cursor = client.get("/branches", params={"limit": 1}).json()["pagination"]["next"]
        other = client.get("/branches", params={"cursor": cursor, "sort_by": "name"})
        broken = client.get("/branches", params={"cursor": "%%%"})
    assert other.status_code == broken.status_code == 400
    with api(emu, pid, checked=False) as client:
        assert client.get("/branches", params={"limit": 0}).status_code == 400


def test_search_filters_branches_by_name_or_id(emu: NeonEmulator, pid: str) -> None:
    emu.add_branch(pid, "preview/login")
    emu.add_branch(pid, "dev/alice")
    with api(emu, pid) as client:
        body = client.get("/branches", params={"search": "preview"}).json()
    assert [b["name"] for b in body["branches"]] == ["preview/login"]


def test_project_endpoints_list_every_branchs_computes(emu: NeonEmulator, pid: str) -> None:
    emu.add_branch(pid, "dev/alice", endpoints=("read_write", "read_only"))
    emu.add_branch(pid, "bare", endpoints=())
    with api(emu, pid) as client:
        endpoints = client.get("/endpoints").json()["endpoints"]
        bare = emu.branch(pid, "bare")["id"]
        assert client.get(f"/branches/{bare}/endpoints").json() == {"endpoints": []}
    assert sorted(e["type"] for e in endpoints) == ["read_only", "read_write", "read_write"]


# -- errors --------------------------------------------------------------------------------------


def test_requests_without_the_right_key_get_401_in_neons_error_shape(
    emu: NeonEmulator, pid: str
) -> None:
    for key in (None, "wrong"):
        with api(emu, pid, key=key, checked=key is not None) as client:
            response = client.get("/branches")
        body = response.json()
        assert response.status_code == 401
        assert set(body) == {"code", "message", "request_id"}


def test_the_callers_request_id_is_echoed(emu: NeonEmulator, pid: str) -> None:
    with api(emu, pid) as client:
        response = client.get("/branches/br-nope-nope-00000000", headers={"x-request-id": "r-1"})
    assert response.status_code == 404
    assert response.json() == {"code": "", "message": "branch not found", "request_id": "r-1"}


def test_unknown_project_role_and_operation_are_404(emu: NeonEmulator, pid: str) -> None:
    main = emu.branch(pid, "main")["id"]
    with api(emu, pid) as client:
        assert client.get(f"/branches/{main}/roles/ghost/reveal_password").status_code == 404
        missing_op = "/operations/00000000-0000-4000-8000-000000000000"
        assert client.get(missing_op).status_code == 404
        assert (
            client.get("https://console.neon.tech/api/v2/projects/other/branches").status_code
            == 404
        )


def test_injected_faults_answer_in_neons_error_shape(emu: NeonEmulator, pid: str) -> None:
    emu.inject(429, path="/endpoints$", headers={"retry-after": "2"})
    with api(emu, pid) as client:
        first = client.get("/endpoints")
        second = client.get("/endpoints")
    assert (first.status_code, first.headers["retry-after"]) == (429, "2")
    assert set(first.json()) == {"code", "message", "request_id"}
    assert second.status_code == 200


# -- passwords and connection URIs ---------------------------------------------------------------


def test_reveal_password_is_412_when_the_project_does_not_store_them(emu: NeonEmulator) -> None:
    pid = emu.add_project("closed", store_passwords=False)
    main = emu.branch(pid, "main")["id"]
    with api(emu, pid) as client:
        response = client.get(f"/branches/{main}/roles/neondb_owner/reveal_password")
    assert response.status_code == 412
    assert "not stored" in response.json()["message"]


def test_reset_password_changes_it_and_moves_the_roles_updated_at(
    emu: NeonEmulator, pid: str
) -> None:
    main = emu.branch(pid, "main")["id"]
    old = emu.password(pid, "main", "neondb_owner")
    with api(emu, pid) as client:
        before = client.get(f"/branches/{main}/roles").json()["roles"][0]["updated_at"]
        body = client.post(f"/branches/{main}/roles/neondb_owner/reset_password").json()
        after = client.get(f"/branches/{main}/roles").json()["roles"][0]["updated_at"]
        revealed = client.get(f"/branches/{main}/roles/neondb_owner/reveal_password").json()
    assert (
        body["role"]["password"]
        == revealed["password"]
        == emu.password(pid, "main", "neondb_owner")
    )
    assert body["role"]["password"] != old and PASSWORD.match(body["role"]["password"])
    assert after > before
    assert [op["action"] for op in body["operations"]] == ["apply_config"]


def test_connection_uri_encodes_role_password_and_database(emu: NeonEmulator, pid: str) -> None:
    emu.add_role(pid, "main", "app user")
    emu.set_password(pid, "main", "app user", "p@ss w/rd")
    emu.add_database(pid, "main", "my db", owner="app user")
    host = emu.endpoint(pid, "main")["host"]
    first, _, rest = host.partition(".")
    query = {"database_name": "my db", "role_name": "app user"}
    with api(emu, pid) as client:
        direct = client.get("/connection_uri", params=query).json()["uri"]
        pooled = client.get("/connection_uri", params={**query, "pooled": "true"}).json()["uri"]
    tail = "/my%20db?sslmode=require&channel_binding=require"
    assert direct == f"postgresql://app%20user:p%40ss%20w%2Frd@{host}{tail}"
    assert pooled == f"postgresql://app%20user:p%40ss%20w%2Frd@{first}-pooler.{rest}{tail}"


def test_connection_uri_of_a_read_replica_by_endpoint_id(emu: NeonEmulator, pid: str) -> None:
    emu.add_endpoint(pid, "main", type="read_only")
    replica = emu.endpoint(pid, "main", type="read_only")
    main = emu.branch(pid, "main")["id"]
    params = {
        "branch_id": main,
        "endpoint_id": replica["id"],
        "database_name": "neondb",
        "role_name": "neondb_owner",
    }
    with api(emu, pid) as client:
        uri = client.get("/connection_uri", params=params).json()["uri"]
    assert f"@{replica['host']}/" in uri


# -- writes and operations -----------------------------------------------------------------------


def test_create_branch_answers_201_with_everything_the_spec_lists(
    emu: NeonEmulator, pid: str
) -> None:
    main = emu.branch(pid, "main")["id"]
    request = {
        "branch": {"name": "preview/pr-1", "parent_id": main},
        "endpoints": [{"type": "read_write"}],
    }
    with api(emu, pid) as client:
        response = client.post("/branches", json=request)
    assert response.status_code == 201
    body = response.json()
    assert body["branch"]["name"] == "preview/pr-1" and body["branch"]["current_state"] == "init"
    assert [e["type"] for e in body["endpoints"]] == ["read_write"]
    assert [op["status"] for op in body["operations"]] == ["running", "running"]
    assert [r["name"] for r in body["roles"]] == ["neondb_owner"]
    assert [d["name"] for d in body["databases"]] == ["neondb"]
    (details,) = body["connection_uris"]
    password = emu.password(pid, "preview/pr-1", "neondb_owner")
    assert details["connection_parameters"]["password"] == password
    assert details["connection_parameters"]["pooler_host"].startswith(
        body["endpoints"][0]["id"] + "-pooler."
    )


def test_create_branch_refuses_a_taken_name_and_an_unknown_parent(
    emu: NeonEmulator, pid: str
) -> None:
    with api(emu, pid) as client:
        taken = client.post("/branches", json={"branch": {"name": "main"}})
        orphan = client.post("/branches", json={"branch": {"parent_id": "br-none-none-00000000"}})
    assert taken.status_code == 409
    assert orphan.status_code == 404


def test_operations_run_then_finish_on_the_second_poll(emu: NeonEmulator, pid: str) -> None:
    with api(emu, pid) as client:
        body = client.post("/branches", json={"endpoints": [{"type": "read_write"}]}).json()
        op = body["operations"][0]["id"]
        statuses = [client.get(f"/operations/{op}").json()["operation"]["status"] for _ in range(3)]
        branch = client.get(f"/branches/{body['branch']['id']}").json()["branch"]
    assert statuses == ["running", "finished", "finished"]
    assert body["branch"]["name"] == body["branch"]["id"]  # an unnamed branch is named by its id
    assert branch["current_state"] == "init"  # its second operation has not been polled yet


def test_writes_get_423_while_an_operation_runs_when_locking_is_on(
    emu: NeonEmulator, pid: str
) -> None:
    emu.lock_while_running = True
    with api(emu, pid) as client:
        body = client.post("/branches", json={}).json()
        busy = client.post("/branches", json={})
        for op in body["operations"]:
            client.get(f"/operations/{op['id']}")
            client.get(f"/operations/{op['id']}")
        free = client.post("/branches", json={})
    assert (busy.status_code, free.status_code) == (423, 201)


def test_delete_branch_refusals_and_success(emu: NeonEmulator, pid: str) -> None:
    main = emu.branch(pid, "main")["id"]
    parent = emu.add_branch(pid, "parent")
    emu.add_branch(pid, "child", parent="parent")
    guarded = emu.add_branch(pid, "guarded", protected=True)
    with api(emu, pid) as client:
        assert client.delete(f"/branches/{main}").status_code == 422
        assert client.delete(f"/branches/{guarded}").status_code == 422
        assert client.delete(f"/branches/{parent}").status_code == 422
        child = emu.branch(pid, "child")["id"]
        deleted = client.delete(f"/branches/{child}")
        again = client.delete(f"/branches/{child}")
    assert deleted.status_code == 200
    assert [op["action"] for op in deleted.json()["operations"]] == [
        "suspend_compute",
        "delete_timeline",
    ]
    assert again.status_code == 204
    assert child not in emu.projects[pid].branches
    assert all(e.branch_id != child for e in emu.projects[pid].endpoints.values())


# -- the builder ---------------------------------------------------------------------------------


def test_seed_demo_builds_the_sample_project(emu: NeonEmulator) -> None:
    pid = emu.seed_demo()
    project = emu.projects[pid]
    assert sorted(b.name for b in project.branches.values()) == [
        "dev/alice",
        "main",
        "preview/feature-login",
    ]
    alice = emu.branch(pid, "dev/alice")["id"]
    assert sorted(e.type for e in project.branch_endpoints(alice)) == ["read_only", "read_write"]
    assert project.branches[alice].databases["analytics"].owner == "analyst"
    assert PASSWORD.match(emu.password(pid, "dev/alice", "analyst"))


def test_builder_edits_show_through_the_api(emu: NeonEmulator, pid: str) -> None:
    bare = emu.add_branch(pid, "bare", endpoints=())
    emu.add_endpoint(pid, bare, type="read_only")
    with pytest.raises(ValueError, match="read_write"):
        emu.add_endpoint(pid, "main")
    emu.remove_branch(pid, "bare")
    with api(emu, pid) as client:
        names = [b["name"] for b in client.get("/branches").json()["branches"]]
        endpoints = client.get("/endpoints").json()["endpoints"]
    assert names == ["main"] and len(endpoints) == 1


def test_the_log_records_requests_and_writes(emu: NeonEmulator, pid: str) -> None:
    with api(emu, pid) as client:
        client.get("/branches", params={"limit": 5})
        client.post("/branches", json={})
    assert [(e.method, e.status) for e in emu.log] == [("GET", 200), ("POST", 201)]
    assert emu.log[0].query == {"limit": "5"}
    assert [e.method for e in emu.writes] == ["POST"]
