"""Every provider through the same contract: scope -> read -> apply -> read.

Each entry of PROVIDERS builds a provider on a fresh emulator (or folder) and knows how to
peek at what the service really holds, so the contract asserts the stored plaintext, not
just what the provider says about itself."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from dotenv import dotenv_values

from neon_sync import providers
from neon_sync.emulators.github import GitHubEmulator
from neon_sync.emulators.vercel import VercelEmulator
from neon_sync.providers.base import Context, Desired, Provider, Scope, Write
from neon_sync.secret import Secret


@dataclass
class Harness:
    provider: Provider
    options: dict[str, Any]
    peek: Callable[[Scope, str], str | None]  # the plaintext the service holds, None if absent


def dotenv(tmp_path: Path) -> Harness:
    provider = providers.module("dotenv").create(Context(env={}, base_dir=tmp_path))

    def peek(scope: Scope, key: str) -> str | None:
        path = tmp_path / scope.options["path"]
        return dotenv_values(path).get(key) if path.exists() else None

    return Harness(provider, {"path": ".env.contract"}, peek)


def github(tmp_path: Path) -> Harness:
    emu = GitHubEmulator(token="ghp_contract")
    emu.add_repo("acme/shop")
    context = Context(
        env={"GITHUB_TOKEN": "ghp_contract", "GITHUB_API_URL": "https://github.test"},
        base_dir=tmp_path,
        transport=httpx.MockTransport(emu.handle),
        sleep=lambda _s: None,
    )

    def peek(scope: Scope, key: str) -> str | None:
        env = scope.options.get("environment")
        return emu.secret_plaintext("acme/shop", key, env) or emu.variable_value(
            "acme/shop", key, env
        )

    options = {"repository": "acme/shop", "environment": "contract"}
    return Harness(providers.module("github").create(context), options, peek)


def vercel(tmp_path: Path) -> Harness:
    emu = VercelEmulator(token="vt_contract")
    emu.add_project("shop")
    context = Context(
        env={"VERCEL_TOKEN": "vt_contract", "VERCEL_API_URL": "https://vercel.test"},
        base_dir=tmp_path,
        transport=httpx.MockTransport(emu.handle),
        sleep=lambda _s: None,
    )

    def peek(scope: Scope, key: str) -> str | None:
        values = [e["value"] for e in emu.envs("shop") if e["key"] == key]
        return values[0] if values else None

    options = {"project": "shop", "environment": "preview", "git_branch": "contract"}
    return Harness(providers.module("vercel").create(context), options, peek)


PROVIDERS: dict[str, Callable[[Path], Harness]] = {
    "dotenv": dotenv,
    "github": github,
    "vercel": vercel,
}


def test_every_registered_provider_is_under_contract() -> None:
    assert set(PROVIDERS) == set(providers.REGISTRY)


@pytest.fixture(params=sorted(PROVIDERS))
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    made = PROVIDERS[request.param](tmp_path)
    yield made
    made.provider.close()


def want(key: str, value: str, secret: bool = True) -> Desired:
    return Desired(key, Secret(value, masked="****"), secret, "preview/contract")


def test_scope_is_stable_and_its_options_can_be_stored(harness: Harness) -> None:
    first = harness.provider.scope("t", harness.options)
    assert first == harness.provider.scope("t", dict(harness.options))
    assert first.target == "t" and first.id
    # the state file keeps scope options so that --prune can reach the scope again
    assert json.loads(json.dumps(dict(first.options))) == dict(first.options)


def test_read_apply_read(harness: Harness) -> None:
    provider = harness.provider
    scope = provider.scope("t", harness.options)
    for desired in (want("DATABASE_URL", "postgresql://a:pw1@h/db"), want("PGHOST", "h", False)):
        provider.check_key(scope, desired)
    assert not provider.read([scope]).get(scope)

    writes = [
        Write("create", "DATABASE_URL", want("DATABASE_URL", "postgresql://a:pw1@h/db"), None),
        Write("create", "PGHOST", want("PGHOST", "h", secret=False), None),
    ]
    markers = provider.apply(scope, writes)
    assert set(markers) == {"DATABASE_URL", "PGHOST"}
    assert harness.peek(scope, "DATABASE_URL") == "postgresql://a:pw1@h/db"
    assert harness.peek(scope, "PGHOST") == "h"

    found = provider.read([scope])[scope]
    assert set(found) >= {"DATABASE_URL", "PGHOST"}
    url = found["DATABASE_URL"]
    if url.value is None:  # write-only: the marker lets the engine notice edits by others
        assert markers["DATABASE_URL"] is not None and url.updated_at == markers["DATABASE_URL"]
    else:
        assert url.value == "postgresql://a:pw1@h/db"
    assert found["PGHOST"].value == "h" and found["PGHOST"].secret in (False, None)

    provider.apply(scope, [Write("update", "DATABASE_URL", want("DATABASE_URL", "pw2"), url)])
    assert harness.peek(scope, "DATABASE_URL") == "pw2"

    provider.apply(scope, [Write("delete", "DATABASE_URL", None, url)])
    assert harness.peek(scope, "DATABASE_URL") is None
    assert "DATABASE_URL" not in provider.read([scope])[scope]
    assert harness.peek(scope, "PGHOST") == "h"  # untouched


def test_a_name_the_service_refuses_is_a_config_error(harness: Harness) -> None:
    from neon_sync.errors import ConfigError

    scope = harness.provider.scope("t", harness.options)
    with pytest.raises(ConfigError):
        harness.provider.check_key(scope, want("1BAD-NAME", "x"))
