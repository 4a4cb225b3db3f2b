"""The Vercel provider against the Vercel emulator, in-process."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from neon_sync.emulators.vercel import VercelEmulator
from neon_sync.errors import ApiError, ConfigError, NeonSyncError, ProviderError
from neon_sync.providers.base import Context, Current, Desired, Scope, Write
from neon_sync.providers.vercel.provider import VercelProvider, create
from neon_sync.secret import Secret, remember

TOKEN = "vt_test_token_123"
PASSWORD = "npg_S3cretPassw0rd"


def url(branch: str = "main") -> str:
    return f"postgresql://neondb_owner:{PASSWORD}@ep-{branch}.neon.tech/neondb?sslmode=require"


class Setup:
    def __init__(self, tmp_path: Path, team: str | None = None, **env: str) -> None:
        self.emu = VercelEmulator(token=TOKEN)
        self.project_id = self.emu.add_project("shop", team=team)
        self.sleeps: list[float] = []
        context = Context(
            env={"VERCEL_TOKEN": TOKEN, **env},
            base_dir=tmp_path,
            transport=httpx.MockTransport(self.emu.handle),
            sleep=self.sleeps.append,
        )
        self.provider: VercelProvider = create(context)

    def scope(self, **options: Any) -> Scope:
        return self.provider.scope("shop", {"project": "shop", **options})

    def sync(self, scope: Scope, values: Mapping[str, str], **kw: Any) -> Mapping[str, Any]:
        """What the engine does for one scope: read, diff by value, apply what differs."""
        found = self.provider.read([scope])[scope]
        writes = []
        for key, value in values.items():
            want = desired(key, value, **kw)
            have = found.get(key)
            if have is None:
                writes.append(Write("create", key, want, None))
            elif have.value != value or have.secret != want.secret:
                writes.append(Write("update", key, want, have))
        return self.provider.apply(scope, writes) if writes else {}

    def held(self) -> dict[tuple[str, str, str], dict[str, Any]]:
        return {
            (e["key"], "+".join(sorted(e["target"])), e.get("gitBranch") or ""): e
            for e in self.emu.envs("shop")
        }


def desired(key: str, value: str, secret: bool = True, **kw: Any) -> Desired:
    return Desired(key, Secret(value), secret, kw.pop("branch", "main"), **kw)


@pytest.fixture
def s(tmp_path: Path) -> Setup:
    return Setup(tmp_path)


# -- scope options ---------------------------------------------------------------------


def test_scope_ids_name_project_environments_and_branch(s: Setup) -> None:
    assert s.scope(environment="production").id == "shop:production"
    assert s.scope(environment="preview", git_branch="feature-x").id == "shop:preview@feature-x"
    assert s.scope(environment=["preview", "development"]).id == "shop:development+preview"


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"environment": "production", "git_branch": "x"}, "git_branch"),
        ({"environment": ["preview", "development"], "git_branch": "x"}, "git_branch"),
        ({"environment": "development", "sensitive": True}, "development"),
        ({"environment": "staging"}, "unknown environment"),
        ({}, "environment"),
        ({"environment": "production", "sensitive": "yes"}, "true or false"),
        ({"environment": "production", "type": "secret"}, "type"),
        ({"environment": "production", "sensitive": True, "type": "plain"}, "contradicts"),
    ],
)
def test_wrong_options_are_config_errors(s: Setup, options: dict[str, Any], says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        s.scope(**options)


def test_project_is_required(s: Setup) -> None:
    with pytest.raises(ConfigError, match="project"):
        s.provider.scope("shop", {"environment": "production"})


def test_team_defaults_to_vercel_team_id_then_a_team_org_id(tmp_path: Path) -> None:
    team = Setup(tmp_path, VERCEL_TEAM_ID="team_env").scope(environment="production")
    org = Setup(tmp_path, VERCEL_ORG_ID="team_org").scope(environment="production")
    user = Setup(tmp_path, VERCEL_ORG_ID="user_personal").scope(environment="production")
    assert team.options["team"] == "team_env"
    assert org.options["team"] == "team_org"
    assert "team" not in user.options


@pytest.mark.parametrize(
    ("key", "kw", "says"),
    [
        ("1DB", {}, "not a valid variable name"),
        ("DB-URL", {}, "not a valid variable name"),
        ("AWS_REGION", {}, "reserved"),
        ("DB", {"sensitive": True}, "development"),
    ],
)
def test_check_key_refuses_what_vercel_refuses(
    s: Setup, key: str, kw: dict[str, Any], says: str
) -> None:
    scope = s.scope(environment=["preview", "development"])
    with pytest.raises(ConfigError, match=says):
        s.provider.check_key(scope, desired(key, "v", **kw))


def test_type_plain_for_a_secret_var_is_refused(s: Setup) -> None:
    scope = s.scope(environment="production", type="plain")
    with pytest.raises(ConfigError, match="secret: false"):
        s.provider.check_key(scope, desired("DB", "v"))
    s.provider.check_key(scope, desired("DB_HOST", "h", secret=False))


def test_scope_and_check_key_do_not_touch_the_network(s: Setup) -> None:
    scope = s.scope(environment="production")
    s.provider.check_key(scope, desired("DATABASE_URL", url()))
    assert s.emu.log == []


# -- first sync, re-run, changes --------------------------------------------------------


def test_first_write_for_production_and_a_preview_git_branch(s: Setup) -> None:
    prod = s.scope(environment="production")
    preview = s.scope(environment="preview", git_branch="feat-x")
    s.sync(prod, {"DATABASE_URL": url()})
    markers = s.sync(preview, {"DATABASE_URL": url("feat")}, branch="preview/feat-x")
    held = s.held()
    assert held[("DATABASE_URL", "production", "")]["value"] == url()
    feat = held[("DATABASE_URL", "preview", "feat-x")]
    assert (feat["value"], feat["type"]) == (url("feat"), "encrypted")
    assert feat["comment"] == "managed by neon-sync; neon branch: preview/feat-x"
    assert markers == {"DATABASE_URL": str(feat["updatedAt"])}


def test_one_list_call_per_project_serves_every_scope(s: Setup) -> None:
    s.emu.add_project("blog")
    scopes = [
        s.scope(environment="production"),
        s.scope(environment="preview", git_branch="a"),
        s.scope(environment="development"),
        s.provider.scope("blog", {"project": "blog", "environment": "production"}),
    ]
    found = s.provider.read(scopes)
    assert set(found) == set(scopes)
    assert [(e.method, e.path) for e in s.emu.log] == [
        ("GET", "/v10/projects/shop/env"),
        ("GET", "/v10/projects/blog/env"),
    ]
    assert all(e.query.get("decrypt") == "true" for e in s.emu.log)


def test_creates_and_updates_of_a_scope_are_one_batched_upsert(s: Setup) -> None:
    scope = s.scope(environment="production")
    s.sync(scope, {"A": "1", "B": "2"})
    s.emu.log.clear()
    s.sync(scope, {"A": "1-new", "B": "2", "C": "3"})
    assert [(e.method, e.path, e.query.get("upsert")) for e in s.emu.writes] == [
        ("POST", "/v10/projects/shop/env", "true")
    ]
    assert [item["key"] for item in s.emu.writes[0].body] == ["A", "C"]
    assert {k: e["value"] for (k, _, _), e in s.held().items()} == {
        "A": "1-new",
        "B": "2",
        "C": "3",
    }


def test_rerun_reads_back_values_owner_and_marker_so_nothing_is_written(s: Setup) -> None:
    scope = s.scope(environment="production")
    markers = s.sync(scope, {"DATABASE_URL": url()})
    s.emu.log.clear()
    assert s.sync(scope, {"DATABASE_URL": url()}) == {}
    assert s.emu.writes == []
    current = s.provider.read([scope])[scope]["DATABASE_URL"]
    assert current == Current(
        "DATABASE_URL", url(), secret=True, updated_at=markers["DATABASE_URL"], owner="main"
    )


def test_changed_value_is_updated_in_place_with_a_new_marker(s: Setup) -> None:
    scope = s.scope(environment="production")
    first = s.sync(scope, {"DATABASE_URL": url()})
    env_id = s.emu.envs("shop")[0]["id"]
    second = s.sync(scope, {"DATABASE_URL": url("rotated")})
    (env,) = s.emu.envs("shop")
    assert (env["id"], env["value"]) == (env_id, url("rotated"))
    assert second["DATABASE_URL"] != first["DATABASE_URL"]


def test_plain_vars_are_written_plain_and_read_as_not_secret(s: Setup) -> None:
    scope = s.scope(environment="production")
    s.sync(scope, {"DB_HOST": "ep-main.neon.tech"}, secret=False)
    assert s.emu.envs("shop")[0]["type"] == "plain"
    assert s.provider.read([scope])[scope]["DB_HOST"].secret is False


def test_secret_kind_change_deletes_and_recreates_the_variable(s: Setup) -> None:
    scope = s.scope(environment="production")
    s.sync(scope, {"DB_HOST": "h"}, secret=False)
    old_id = s.emu.envs("shop")[0]["id"]
    s.sync(scope, {"DB_HOST": "h"}, secret=True)
    (env,) = s.emu.envs("shop")
    assert env["type"] == "encrypted" and env["id"] != old_id
    assert [e.method for e in s.emu.writes] == ["POST", "DELETE", "POST"]


# -- sensitive -------------------------------------------------------------------------


def test_sensitive_target_writes_sensitive_vars_that_read_back_as_write_only(s: Setup) -> None:
    scope = s.scope(environment="production", sensitive=True)
    marker = s.sync(scope, {"DATABASE_URL": url()})
    assert s.emu.envs("shop")[0]["type"] == "sensitive"
    current = s.provider.read([scope])[scope]["DATABASE_URL"]
    assert current.value is None
    assert current.updated_at == marker["DATABASE_URL"]
    assert current.owner == "main"


def test_per_var_sensitive_overrides_the_target(s: Setup) -> None:
    scope = s.scope(environment="production")
    s.sync(scope, {"DATABASE_URL": url()}, sensitive=True)
    assert s.emu.envs("shop")[0]["type"] == "sensitive"


# -- multi-target variables -------------------------------------------------------------


def test_multi_target_var_is_split_so_only_the_configured_target_changes(s: Setup) -> None:
    s.emu.add_env("shop", "DATABASE_URL", "shared", ["preview", "development"])
    scope = s.scope(environment="preview")
    s.sync(scope, {"DATABASE_URL": url()})
    held = s.held()
    assert set(held) == {("DATABASE_URL", "development", ""), ("DATABASE_URL", "preview", "")}
    assert held[("DATABASE_URL", "development", "")]["value"] == "shared"
    assert held[("DATABASE_URL", "preview", "")]["value"] == url()
    assert [e.method for e in s.emu.writes] == ["PATCH", "POST"]
    assert all(e.status < 400 for e in s.emu.log)
    assert any("split" in note and "development" in note for note in s.provider.take_notes())


def test_multi_target_var_holding_the_value_already_needs_no_write(s: Setup) -> None:
    s.emu.add_env("shop", "DATABASE_URL", url(), ["preview", "development"])
    assert s.sync(s.scope(environment="preview"), {"DATABASE_URL": url()}) == {}
    assert s.emu.writes == []


def test_scope_of_several_targets_replaces_vars_it_fully_covers(s: Setup) -> None:
    s.emu.add_env("shop", "DB", "p", ["preview"])
    s.emu.add_env("shop", "DB", "d", ["development"])
    s.emu.add_env("shop", "DB", "prod", ["production"])
    s.sync(s.scope(environment=["development", "preview"]), {"DB": "new"})
    assert {(k, t): e["value"] for (k, t, _), e in s.held().items()} == {
        ("DB", "development+preview"): "new",
        ("DB", "production"): "prod",
    }


def test_delete_from_a_multi_target_var_keeps_its_other_targets(s: Setup) -> None:
    s.emu.add_env("shop", "DB", "shared", ["preview", "development"])
    scope = s.scope(environment="preview")
    current = s.provider.read([scope])[scope]["DB"]
    assert s.provider.apply(scope, [Write("delete", "DB", None, current)]) == {"DB": None}
    assert set(s.held()) == {("DB", "development", "")}


def test_a_var_created_by_someone_between_read_and_write_is_reported_by_key(s: Setup) -> None:
    scope = s.scope(environment="preview")
    s.provider.read([scope])
    s.emu.add_env("shop", "B", "theirs", ["preview", "development"])  # after our read
    writes = [Write("create", k, desired(k, url()), None) for k in ("A", "B")]
    with pytest.raises(ProviderError) as caught:
        s.provider.apply(scope, writes)
    assert "B (preview)" in str(caught.value) and "ENV_CONFLICT" in str(caught.value)
    assert set(caught.value.done) == {"A"}
    assert PASSWORD not in str(caught.value)


# -- prune without local state ----------------------------------------------------------


def test_read_returns_unasked_scopes_holding_managed_vars(s: Setup) -> None:
    s.sync(s.scope(environment="preview", git_branch="old"), {"DB": url("old")}, branch="pr/old")
    s.emu.add_env("shop", "OTHER", "x", ["preview"], git_branch="mine")  # not neon-sync's
    prod = s.scope(environment="production")
    found = s.provider.read([prod])
    (extra,) = [scope for scope in found if scope != prod]
    assert (extra.target, extra.id) == ("shop", "shop:preview@old")
    assert extra.options["git_branch"] == "old"
    assert found[extra] == {
        "DB": Current("DB", url("old"), True, found[extra]["DB"].updated_at, "pr/old")
    }
    assert s.provider.apply(extra, [Write("delete", "DB", None, found[extra]["DB"])])
    assert set(s.held()) == {("OTHER", "preview", "mine")}


def test_unasked_scopes_with_and_without_a_git_branch_are_all_returned(s: Setup) -> None:
    s.sync(s.scope(environment="preview"), {"DB": "all"}, branch="staging")
    s.sync(s.scope(environment="preview", git_branch="old"), {"DB": "old"}, branch="pr/old")
    s.sync(s.scope(environment="development"), {"DB": "dev"}, branch="dev")
    prod = s.scope(environment="production")
    found = s.provider.read([prod])
    assert sorted(scope.id for scope in found if scope != prod) == [
        "shop:development",
        "shop:preview",
        "shop:preview@old",
    ]
    assert {scope.id: keys["DB"].owner for scope, keys in found.items() if keys} == {
        "shop:development": "dev",
        "shop:preview": "staging",
        "shop:preview@old": "pr/old",
    }


# -- teams, errors, rate limits ----------------------------------------------------------


def test_team_project_sends_team_id_on_every_request(tmp_path: Path) -> None:
    t = Setup(tmp_path, team="team_acme")
    t.emu.add_deployment("shop", "production")
    scope = t.scope(environment="production", team="team_acme", redeploy=True)
    t.sync(scope, {"DATABASE_URL": url()})
    t.sync(scope, {"DATABASE_URL": url("2")})
    assert len(t.emu.log) >= 6
    assert all(entry.query.get("teamId") == "team_acme" for entry in t.emu.log)
    assert all(entry.status < 400 for entry in t.emu.log)


def test_team_project_without_team_says_to_set_team(tmp_path: Path) -> None:
    t = Setup(tmp_path, team="team_acme")
    with pytest.raises(ApiError) as caught:
        t.provider.read([t.scope(environment="production")])
    text = str(caught.value)
    assert "(404)" in text and "Project not found" in text and "VERCEL_TEAM_ID" in text


def test_team_the_token_cannot_use_is_named(tmp_path: Path) -> None:
    t = Setup(tmp_path)
    t.emu.add_team("team_other", member=False)
    with pytest.raises(ApiError, match="cannot act for team 'team_other'"):
        t.provider.read([t.scope(environment="production", team="team_other")])


def test_refused_token_says_to_check_vercel_token(s: Setup) -> None:
    s.emu.tokens = {"vt_other"}
    with pytest.raises(ApiError) as caught:
        s.provider.read([s.scope(environment="production")])
    assert "VERCEL_TOKEN was refused" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_missing_token_is_a_config_error_at_first_use(tmp_path: Path) -> None:
    provider = create(Context(env={}, base_dir=tmp_path))
    scope = provider.scope("shop", {"project": "shop", "environment": "production"})
    with pytest.raises(ConfigError, match="VERCEL_TOKEN is not set"):
        provider.read([scope])


def test_other_vercel_errors_show_their_code_and_message(s: Setup) -> None:
    body = {"error": {"code": "payment_required", "message": "Upgrade to Pro"}}
    s.emu.inject(402, body=body, method="POST")
    scope = s.scope(environment="production")
    with pytest.raises(ProviderError) as caught:
        s.sync(scope, {"DATABASE_URL": url()})
    text = str(caught.value)
    assert "Upgrade to Pro (payment_required)" in text and "(402)" in text
    assert PASSWORD not in text and TOKEN not in text


def test_rate_limit_waits_until_the_reset_in_the_body(s: Setup) -> None:
    s.emu.rate_limit(times=2, reset_in=7)
    found = s.provider.read([s.scope(environment="production")])
    assert list(found.values()) == [{}]
    assert len(s.sleeps) == 2 and all(5 <= wait <= 7.5 for wait in s.sleeps)


def test_rate_limit_longer_than_we_wait_is_reported_with_its_reset(s: Setup) -> None:
    s.emu.rate_limit(times=1, reset_in=600)
    with pytest.raises(ApiError) as caught:
        s.provider.read([s.scope(environment="production")])
    text = str(caught.value)
    assert "(429)" in text and "rate_limited" in text and "holds until" in text
    assert s.sleeps == []


# -- redeploy --------------------------------------------------------------------------


def test_redeploy_after_a_change_redeploys_the_latest_of_that_environment(s: Setup) -> None:
    s.emu.add_deployment("shop", "production")
    latest = s.emu.add_deployment("shop", "production")
    s.sync(s.scope(environment="production", redeploy=True), {"DATABASE_URL": url()})
    post = [e for e in s.emu.writes if e.path == "/v13/deployments"]
    assert len(post) == 1
    assert post[0].body == {
        "name": "shop",
        "deploymentId": latest,
        "target": "production",
        "meta": {"action": "redeploy"},
    }
    assert post[0].query["forceNew"] == "1"
    assert any("redeployed production" in note for note in s.provider.take_notes())


def test_redeploy_of_a_preview_branch_picks_that_branch(s: Setup) -> None:
    mine = s.emu.add_deployment("shop", None, branch="feat-x")
    s.emu.add_deployment("shop", None, branch="other")
    scope = s.scope(environment="preview", git_branch="feat-x", redeploy=True)
    s.sync(scope, {"DATABASE_URL": url()})
    listing = next(e for e in s.emu.log if e.path == "/v6/deployments")
    assert listing.query["branch"] == "feat-x" and listing.query["target"] == "preview"
    (post,) = [e for e in s.emu.writes if e.path == "/v13/deployments"]
    assert post.body["deploymentId"] == mine and "target" not in post.body


def test_no_redeploy_without_the_option_or_a_deployment(s: Setup) -> None:
    s.emu.add_deployment("shop", "production")
    s.sync(s.scope(environment="production"), {"A": "1"})
    s.sync(s.scope(environment="preview", redeploy=True), {"A": "1"})
    assert not [e for e in s.emu.log if "deployments" in e.path and e.method == "POST"]
    assert any("no preview deployment" in note for note in s.provider.take_notes())


def test_no_secret_in_any_error_text(s: Setup) -> None:
    remember(PASSWORD)  # in a run, Neon's reveal comes before any target is read
    texts = []
    for status, code in [(400, "bad_request"), (403, "forbidden"), (500, "internal")]:
        s.emu.inject(status, body={"error": {"code": code, "message": f"bad {url()}"}})
        try:
            s.sync(s.scope(environment="production"), {"DATABASE_URL": url()})
        except NeonSyncError as exc:
            texts.append(str(exc))
    assert len(texts) == 3
    assert all(PASSWORD not in text and TOKEN not in text for text in texts)
