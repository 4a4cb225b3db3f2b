"""The GitHub emulator answers as api.github.com does for Actions secrets, variables and
environments: every request and every success answer here is checked against the spec."""

from __future__ import annotations

import base64
from collections.abc import Callable

import httpx
import pytest
from nacl.public import PublicKey, SealedBox

from neon_sync.emulators.base import FAULT_HEADER
from neon_sync.emulators.github import GitHubEmulator
from neon_sync.emulators.server import serve
from tests.openapi_check import SPECS, check_request, check_response, openapi

TOKEN = "ghp_test"
App = Callable[[httpx.Request], httpx.Response]
SPEC = SPECS / "github-actions-secrets-variables.json"


def spec_checked(app: App, prefix: str = "") -> App:
    """Check every request against the spec, and every answer whose status the spec
    documents (it documents successes and a few 409/422s, not GitHub's error bodies)."""
    spec = openapi(SPEC, prefix)

    def handle(request: httpx.Request) -> httpx.Response:
        check_request(spec, request)
        response = app(request)
        if response.status_code < 400 and FAULT_HEADER not in response.headers:
            check_response(spec, request, response)
        return response

    return handle


@pytest.fixture
def emu() -> GitHubEmulator:
    emu = GitHubEmulator(token=TOKEN)
    emu.add_repo("acme/shop")
    return emu


def client(emu: GitHubEmulator, token: str | None = TOKEN, checked: bool = True) -> httpx.Client:
    headers = {"accept": "application/vnd.github+json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    return httpx.Client(
        base_url="https://api.github.com",
        transport=httpx.MockTransport(spec_checked(emu.handle) if checked else emu.handle),
        headers=headers,
    )


def sealed(c: httpx.Client, prefix: str, value: str) -> dict[str, str]:
    key = c.get(f"{prefix}/secrets/public-key").json()
    box = SealedBox(PublicKey(base64.b64decode(key["key"])))
    encrypted = base64.b64encode(box.encrypt(value.encode())).decode()
    return {"encrypted_value": encrypted, "key_id": key["key_id"]}


REPO = "/repos/acme/shop/actions"


def test_missing_and_wrong_tokens_get_githubs_401_bodies(emu: GitHubEmulator) -> None:
    missing = client(emu, token=None).get(f"{REPO}/secrets")
    wrong = client(emu, token="ghp_nope").get(f"{REPO}/secrets")
    assert missing.status_code == wrong.status_code == 401
    assert missing.json()["message"] == "Requires authentication"
    assert wrong.json() == {
        "message": "Bad credentials",
        "documentation_url": "https://docs.github.com/rest",
        "status": "401",
    }


def test_unknown_repository_and_environment_are_404_not_found(emu: GitHubEmulator) -> None:
    c = client(emu)
    assert c.get("/repos/acme/nope/actions/secrets").json()["message"] == "Not Found"
    assert c.get("/repos/acme/shop/environments/prod/secrets").status_code == 404
    assert c.get("/repos/acme/shop/environments/prod").status_code == 404


def test_secret_is_decrypted_and_create_is_201_then_update_is_204(emu: GitHubEmulator) -> None:
    c = client(emu)
    first = c.put(f"{REPO}/secrets/database_url", json=sealed(c, REPO, "postgres://a"))
    listed = c.get(f"{REPO}/secrets").json()["secrets"][0]
    second = c.put(f"{REPO}/secrets/DATABASE_URL", json=sealed(c, REPO, "postgres://b"))
    assert (first.status_code, first.json()) == (201, {})
    assert second.status_code == 204
    assert emu.secret_plaintext("acme/shop", "DATABASE_URL") == "postgres://b"
    after = c.get(f"{REPO}/secrets/DATABASE_URL").json()
    assert listed["name"] == "DATABASE_URL"  # stored upper-case
    assert after["updated_at"] > listed["updated_at"]
    assert after["created_at"] == listed["created_at"]
    assert "value" not in after


def test_secret_sealed_for_another_key_or_garbled_is_422(emu: GitHubEmulator) -> None:
    emu.add_environment("acme/shop", "prod")
    c = client(emu)
    env_body = sealed(c, "/repos/acme/shop/environments/prod", "x")
    wrong_key = c.put(f"{REPO}/secrets/A", json=env_body)
    repo_key = sealed(c, REPO, "x")["key_id"]
    garbled = c.put(f"{REPO}/secrets/A", json={"encrypted_value": "c2VjcmV0", "key_id": repo_key})
    assert wrong_key.status_code == garbled.status_code == 422
    assert emu.secret_plaintext("acme/shop", "A") is None


@pytest.mark.parametrize("name", ["1ST", "GITHUB_TOKEN", "github_x", "BAD-NAME"])
def test_invalid_names_are_422(emu: GitHubEmulator, name: str) -> None:
    c = client(emu)
    secret = c.put(f"{REPO}/secrets/{name}", json=sealed(c, REPO, "x"))
    variable = c.post(f"{REPO}/variables", json={"name": name, "value": "x"})
    assert secret.status_code == variable.status_code == 422
    assert "name" in variable.json()["message"].lower()


def test_variable_create_conflict_update_and_delete(emu: GitHubEmulator) -> None:
    c = client(emu)
    created = c.post(f"{REPO}/variables", json={"name": "pghost", "value": "a"})
    again = c.post(f"{REPO}/variables", json={"name": "PGHOST", "value": "b"})
    patched = c.patch(f"{REPO}/variables/PGHOST", json={"name": "PGHOST", "value": "c"})
    got = c.get(f"{REPO}/variables/pghost").json()
    deleted = c.delete(f"{REPO}/variables/PGHOST")
    assert (created.status_code, again.status_code, patched.status_code) == (201, 409, 204)
    assert got["name"] == "PGHOST" and got["value"] == "c"
    assert deleted.status_code == 204
    assert c.get(f"{REPO}/variables/PGHOST").status_code == 404
    assert c.patch(f"{REPO}/variables/PGHOST", json={"value": "d"}).status_code == 404


def test_listing_pages_with_link_headers_and_total_count(emu: GitHubEmulator) -> None:
    for i in range(45):
        emu.set_secret("acme/shop", f"S{i:02}", "v")
        emu.set_variable("acme/shop", f"V{i:02}", "v")
    c = client(emu)
    first = c.get(f"{REPO}/secrets", params={"per_page": 20})
    last = c.get(first.links["last"]["url"])
    variables = c.get(f"{REPO}/variables", params={"per_page": 100})
    assert first.json()["total_count"] == 45
    assert [s["name"] for s in first.json()["secrets"]][:2] == ["S00", "S01"]
    assert "page=2" in first.links["next"]["url"]
    assert [s["name"] for s in last.json()["secrets"]] == ["S40", "S41", "S42", "S43", "S44"]
    assert "next" not in last.links and "prev" in last.links
    assert len(variables.json()["variables"]) == 30  # GitHub caps variables at 30 a page
    assert len(c.get(f"{REPO}/variables").json()["variables"]) == 10  # and defaults to 10


def test_environments_are_created_listed_and_deleted_with_their_secrets(
    emu: GitHubEmulator,
) -> None:
    c = client(emu)
    made = c.put("/repos/acme/shop/environments/preview%2Fpr-1")
    prefix = "/repos/acme/shop/environments/preview%2Fpr-1"
    c.put(f"{prefix}/secrets/DATABASE_URL", json=sealed(c, prefix, "postgres://pr"))
    listed = c.get("/repos/acme/shop/environments").json()
    assert made.status_code == 200 and made.json()["name"] == "preview/pr-1"
    assert listed["total_count"] == 1
    assert emu.secret_plaintext("acme/shop", "DATABASE_URL", "preview/pr-1") == "postgres://pr"
    assert emu.secret_plaintext("acme/shop", "DATABASE_URL") is None
    assert c.delete(prefix).status_code == 204
    assert c.get(f"{prefix}/secrets").status_code == 404
    assert emu.environment_names("acme/shop") == []


def test_injected_rate_limit_carries_githubs_headers_then_clears(emu: GitHubEmulator) -> None:
    emu.store.clock = lambda: 1_700_000_000.0
    emu.rate_limit(reset_in=42)
    c = client(emu)
    limited = c.get(f"{REPO}/secrets")
    assert limited.status_code == 403
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert limited.headers["x-ratelimit-reset"] == "1700000042"
    assert "rate limit" in limited.json()["message"]
    assert c.get(f"{REPO}/secrets").status_code == 200


def test_workflow_token_cannot_touch_secrets_or_variables(emu: GitHubEmulator) -> None:
    emu.workflow_token = True
    c = client(emu)
    put = c.put(f"{REPO}/secrets/A", json={"encrypted_value": "c2VjcmV0", "key_id": "1"})
    post = c.post(f"{REPO}/variables", json={"name": "A", "value": "x"})
    assert put.status_code == post.status_code == 403
    assert post.json()["message"] == "Resource not accessible by integration"
    assert c.get("/repos/acme/shop/environments").status_code == 200


def test_org_secrets_and_variables_need_visibility(emu: GitHubEmulator) -> None:
    emu.add_org("acme")
    c = client(emu)
    prefix = "/orgs/acme/actions"
    body = {**sealed(c, prefix, "s3cret"), "visibility": "selected", "selected_repository_ids": [7]}
    assert c.put(f"{prefix}/secrets/TOKEN", json=body).status_code == 201
    unchecked = client(emu, checked=False)  # the spec itself forbids this request
    assert (
        unchecked.post(f"{prefix}/variables", json={"name": "A", "value": "x"}).status_code == 422
    )
    ok = c.post(f"{prefix}/variables", json={"name": "A", "value": "x", "visibility": "all"})
    secret = c.get(f"{prefix}/secrets").json()["secrets"][0]
    assert ok.status_code == 201
    assert secret["visibility"] == "selected"
    assert emu.secret_plaintext("acme", "TOKEN") == "s3cret"
    assert emu.holder("acme").secrets["TOKEN"].selected == [7]


def test_ghes_api_prefix_and_loopback_serving(emu: GitHubEmulator) -> None:
    with serve(spec_checked(emu.handle, "/api/v3")) as url:
        response = httpx.get(
            f"{url}/api/v3/repos/acme/shop/actions/variables",
            headers={"authorization": f"token {TOKEN}"},
        )
    assert response.status_code == 200
    assert response.json() == {"total_count": 0, "variables": []}
