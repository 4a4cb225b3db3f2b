"""The Vercel emulator's answers, parsed by the official @vercel/sdk's zod models (as the
Neon and GitHub emulators are checked against their OpenAPI specs). Needs Node and
`npm ci --prefix tests/vercel_sdk`; .ci/run does that and sets NEON_SYNC_VERCEL_SDK=required."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from neon_sync.emulators.vercel import VercelEmulator

SDK = Path(__file__).parent / "vercel_sdk"
TOKEN = "vt_sdk_check_token"


def sdk_parse(answers: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None or not (SDK / "node_modules" / "@vercel" / "sdk").is_dir():
        # As tests/realpg: skipped on a developer's machine without it, a failure in .ci/run.
        missing = "the Vercel SDK check needs Node and `npm ci --prefix tests/vercel_sdk`"
        if os.environ.get("NEON_SYNC_VERCEL_SDK") == "required":
            pytest.fail(missing)
        pytest.skip(missing)
    lines = "".join(json.dumps({"op": op, "body": body}) + "\n" for op, body in answers)
    done = subprocess.run(
        [node, "check.mjs"], cwd=SDK, input=lines, capture_output=True, text=True, check=True
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_every_env_answer_parses_with_the_official_sdk() -> None:
    emu = VercelEmulator(token=TOKEN)
    emu.add_project("shop", team="team_acme")
    emu.add_env("shop", "SEEDED", "v", ["preview", "development"], comment="by hand")
    client = httpx.Client(
        base_url="https://api.vercel.com",
        transport=httpx.MockTransport(emu.handle),
        headers={"authorization": f"Bearer {TOKEN}"},
        params={"teamId": "team_acme"},
    )
    answers: list[tuple[str, Any]] = []

    def call(op: str, method: str, url: str, status: int, **kwargs: Any) -> Any:
        response = client.request(method, url, **kwargs)
        assert response.status_code == status, response.text
        answers.append((op, response.json()))
        return response.json()

    env = "/v10/projects/shop/env"
    one = {"key": "DATABASE_URL", "value": "postgresql://u:p@h/db", "type": "encrypted"}
    created = call("createProjectEnv", "POST", env, 201, json={**one, "target": ["production"]})
    call(
        "createProjectEnv",
        "POST",
        env,
        201,
        params={"upsert": "true", "teamId": "team_acme"},
        json=[
            {**one, "type": "sensitive", "target": ["preview"], "gitBranch": "feat-x"},
            {"key": "PGHOST", "value": "h", "type": "plain", "target": ["development"]},
        ],
    )
    listed = call("filterProjectEnvs", "GET", env, 200)
    call("filterProjectEnvs", "GET", env, 200, params={"decrypt": "true", "teamId": "team_acme"})
    env_id = created["created"]["id"]
    call("getProjectEnv", "GET", f"/v1/projects/shop/env/{env_id}", 200)
    call("editProjectEnv", "PATCH", f"/v9/projects/shop/env/{env_id}", 200, json={"value": "x"})
    call("removeProjectEnv", "DELETE", f"/v9/projects/shop/env/{env_id}", 200)
    rest = [item["id"] for item in listed["envs"] if item["id"] != env_id]
    call("batchRemoveProjectEnv", "DELETE", "/v1/projects/shop/env", 200, json={"ids": rest})

    results = sdk_parse(answers)
    assert len(results) == len(answers) == 8
    rejected = [
        (op, r["issues"]) for (op, _), r in zip(answers, results, strict=True) if not r["ok"]
    ]
    assert rejected == []


def test_the_sdk_check_can_fail() -> None:
    """The check itself rejects an answer Vercel would never give."""
    (result,) = sdk_parse([("filterProjectEnvs", {"envs": [{"key": 5}]})])
    assert not result["ok"] and result["issues"]
