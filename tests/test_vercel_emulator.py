"""The Vercel emulator answers as api.vercel.com does for the calls neon-sync makes."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from neon_sync.emulators.server import serve
from neon_sync.emulators.vercel import VercelEmulator

TOKEN = "vt_test"


@pytest.fixture
def emu() -> VercelEmulator:
    return VercelEmulator(token=TOKEN)


def client(emu: VercelEmulator, token: str | None = TOKEN) -> httpx.Client:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(
        base_url="https://api.vercel.com",
        transport=httpx.MockTransport(emu.handle),
        headers=headers,
    )


def new(key: str, value: str = "v", target: Any = ("production",), **extra: Any) -> dict[str, Any]:
    return {"key": key, "value": value, "type": "encrypted", "target": list(target), **extra}


def test_missing_and_wrong_tokens_are_refused_as_forbidden(emu: VercelEmulator) -> None:
    emu.add_project("shop")
    missing = client(emu, token=None).get("/v10/projects/shop/env")
    wrong = client(emu, token="vt_nope").get("/v10/projects/shop/env")
    assert missing.status_code == 403
    assert missing.json()["error"]["code"] == "forbidden"
    assert wrong.json()["error"] == {
        "code": "forbidden",
        "message": "Not authorized",
        "invalidToken": True,
    }


def test_team_project_needs_its_team_id(emu: VercelEmulator) -> None:
    project_id = emu.add_project("shop", team="team_acme")
    emu.add_team("team_other", member=False)
    c = client(emu)
    assert c.get("/v10/projects/shop/env").status_code == 404
    assert c.get(f"/v10/projects/{project_id}/env").status_code == 404
    assert c.get("/v10/projects/shop/env", params={"teamId": "team_other"}).status_code == 403
    assert c.get("/v10/projects/shop/env", params={"teamId": "team_acme"}).status_code == 200
    assert c.get("/v10/projects/shop/env", params={"slug": "acme"}).status_code == 200
    assert c.get(f"/v10/projects/{project_id}/env?teamId=team_acme").status_code == 200


def test_unknown_project_is_not_found_in_vercel_shape(emu: VercelEmulator) -> None:
    response = client(emu).get("/v10/projects/nope/env")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Project not found"}}


def test_values_are_decrypted_only_on_request_and_sensitive_never(emu: VercelEmulator) -> None:
    emu.add_project("shop")
    emu.add_env("shop", "ENC", "enc-value", "production")
    emu.add_env("shop", "SENS", "sens-value", "production", type="sensitive")
    emu.add_env("shop", "PLAIN", "plain-value", "production", type="plain")
    c = client(emu)
    clear = {e["key"]: e for e in c.get("/v10/projects/shop/env?decrypt=true").json()["envs"]}
    hidden = {e["key"]: e["value"] for e in c.get("/v10/projects/shop/env").json()["envs"]}
    assert (clear["ENC"]["value"], clear["ENC"]["decrypted"]) == ("enc-value", True)
    assert clear["SENS"]["value"] == "" and hidden["SENS"] == ""
    assert clear["PLAIN"]["value"] == hidden["PLAIN"] == "plain-value"
    assert hidden["ENC"] and "enc-value" not in hidden["ENC"]
    assert isinstance(clear["ENC"]["createdAt"], int) and clear["ENC"]["createdAt"] > 1e12


def test_create_without_upsert_of_existing_key_is_env_already_exists(emu: VercelEmulator) -> None:
    emu.add_project("shop")
    c = client(emu)
    assert c.post("/v10/projects/shop/env", json=new("DB")).status_code == 201
    again = c.post("/v10/projects/shop/env", json=new("DB"))
    assert again.status_code == 403
    assert again.json()["error"]["code"] == "ENV_ALREADY_EXISTS"


def test_upsert_updates_in_place_and_bumps_updated_at(emu: VercelEmulator) -> None:
    emu.add_project("shop")
    env_id = emu.add_env("shop", "DB", "old", "production")
    before = emu.envs("shop")[0]["updatedAt"]
    response = client(emu).post("/v10/projects/shop/env?upsert=true", json=new("DB", "new"))
    assert response.status_code == 201
    created = response.json()["created"]
    assert created["id"] == env_id and created["updatedAt"] > before
    assert [e["value"] for e in emu.envs("shop")] == ["new"]


def test_upsert_with_different_target_set_is_env_conflict(emu: VercelEmulator) -> None:
    emu.add_project("shop")
    emu.add_env("shop", "DB", "shared", ["preview", "development"])
    response = client(emu).post(
        "/v10/projects/shop/env?upsert=true", json=new("DB", target=["preview"])
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "ENV_CONFLICT"
    assert emu.envs("shop")[0]["value"] == "shared"


def test_git_branch_scoped_vars_coexist_with_the_preview_one(emu: VercelEmulator) -> None:
    emu.add_project("shop")
    emu.add_env("shop", "DB", "all-previews", "preview")
    response = client(emu).post(
        "/v10/projects/shop/env", json=new("DB", "feat", ["preview"], gitBranch="feat-x")
    )
    assert response.status_code == 201
    held = {(e.get("gitBranch") or "", e["value"]) for e in emu.envs("shop")}
    assert held == {("", "all-previews"), ("feat-x", "feat")}


@pytest.mark.parametrize(
    "item",
    [
        new("DB", target=["production"], gitBranch="main"),
        new("DB", target=["preview", "development"], gitBranch="feat"),
        {**new("DB", target=["development"]), "type": "sensitive"},
        {**new("DB"), "type": "secret"},
        new("DB", target=["staging"]),
    ],
)
def test_invalid_items_refuse_the_whole_batch(emu: VercelEmulator, item: dict[str, Any]) -> None:
    emu.add_project("shop")
    response = client(emu).post("/v10/projects/shop/env", json=[new("OK"), item])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_request"
    assert emu.envs("shop") == []


def test_batch_create_reports_created_and_failed(emu: VercelEmulator) -> None:
    emu.add_project("shop")
    emu.add_env("shop", "TAKEN", "x", "production")
    response = client(emu).post("/v10/projects/shop/env", json=[new("FRESH"), new("TAKEN")])
    assert response.status_code == 201
    body = response.json()
    assert [e["key"] for e in body["created"]] == ["FRESH"]
    assert body["failed"][0]["error"]["code"] == "ENV_ALREADY_EXISTS"
    assert body["failed"][0]["error"]["key"] == "TAKEN"


def test_batch_where_nothing_is_created_is_a_400_listing_failures(emu: VercelEmulator) -> None:
    emu.add_project("shop")
    emu.add_env("shop", "TAKEN", "x", "production")
    response = client(emu).post("/v10/projects/shop/env", json=[new("TAKEN")])
    assert response.status_code == 400
    assert response.json()["error"]["failed"][0]["error"]["code"] == "ENV_ALREADY_EXISTS"


def test_patch_narrows_targets_and_refuses_type_changes(emu: VercelEmulator) -> None:
    emu.add_project("shop")
    env_id = emu.add_env("shop", "DB", "shared", ["preview", "development"])
    c = client(emu)
    narrowed = c.patch(f"/v9/projects/shop/env/{env_id}", json={"target": ["development"]})
    assert narrowed.status_code == 200 and narrowed.json()["target"] == ["development"]
    retype = c.patch(f"/v9/projects/shop/env/{env_id}", json={"type": "plain"})
    assert retype.status_code == 400
    sensitive_dev = c.patch(f"/v9/projects/shop/env/{env_id}", json={"type": "sensitive"})
    assert sensitive_dev.status_code == 400


def test_delete_one_and_batch_delete(emu: VercelEmulator) -> None:
    emu.add_project("shop")
    ids = [emu.add_env("shop", key, "v", "production") for key in ("A", "B", "C")]
    c = client(emu)
    assert c.delete(f"/v9/projects/shop/env/{ids[0]}").json()["key"] == "A"
    assert c.delete(f"/v9/projects/shop/env/{ids[0]}").status_code == 404
    batch = c.request("DELETE", "/v1/projects/shop/env", json={"ids": ids[1:]})
    assert batch.json() == {"deleted": 2, "ids": ids[1:]}
    assert emu.envs("shop") == []


def test_latest_deployment_per_target_and_branch_can_be_redeployed(emu: VercelEmulator) -> None:
    project_id = emu.add_project("shop", team="team_acme")
    emu.add_deployment("shop", "production")
    feat = emu.add_deployment("shop", None, branch="feat-x")
    emu.add_deployment("shop", None, branch="other")
    c = client(emu)
    query = {"projectId": project_id, "target": "preview", "branch": "feat-x", "limit": "1"}
    listed = c.get("/v6/deployments", params={**query, "teamId": "team_acme"}).json()
    assert [d["uid"] for d in listed["deployments"]] == [feat]
    redeploy = c.post(
        "/v13/deployments?forceNew=1&teamId=team_acme",
        json={"name": "shop", "deploymentId": feat, "meta": {"action": "redeploy"}},
    )
    assert redeploy.status_code == 200
    newest = c.get("/v6/deployments", params={**query, "teamId": "team_acme"}).json()
    assert newest["deployments"][0]["uid"] == redeploy.json()["id"] != feat


def test_rate_limit_injection_answers_429_with_reset(emu: VercelEmulator) -> None:
    emu.add_project("shop")
    emu.rate_limit(times=1, reset_in=5)
    c = client(emu)
    limited = c.get("/v10/projects/shop/env")
    assert limited.status_code == 429
    error = limited.json()["error"]
    assert error["code"] == "rate_limited"
    assert 0 < error["limit"]["reset"] - time.time() <= 6
    assert c.get("/v10/projects/shop/env").status_code == 200


def test_serves_over_loopback_http(emu: VercelEmulator) -> None:
    emu.add_project("shop")
    emu.add_env("shop", "DB", "value", "production")
    with serve(emu.handle) as url:
        response = httpx.get(
            f"{url}/v10/projects/shop/env?decrypt=true", headers={"authorization": "Bearer vt_test"}
        )
    assert response.json()["envs"][0]["value"] == "value"
