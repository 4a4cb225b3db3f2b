"""The github provider against the GitHub emulator in-process; every request it sends (and
every success answer) is checked against GitHub's OpenAPI file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from neon_sync.emulators.github import GitHubEmulator
from neon_sync.engine.plan import Action, Entry, diff
from neon_sync.engine.state import State
from neon_sync.errors import ApiError, ConfigError, ProviderError, StateError
from neon_sync.providers.base import Context, Current, Desired, Scope, Write
from neon_sync.providers.github import provider as module
from neon_sync.providers.github.provider import GitHubProvider
from neon_sync.providers.github.state import VariableStateStore
from neon_sync.secret import Secret
from tests.test_github_emulator import spec_checked

TOKEN = "ghp_test"
App = Callable[[httpx.Request], httpx.Response]
URL = "postgres://neondb_owner:npg_Pa55word@ep-x.neon.tech/neondb"


class Clock:
    """Wall clock and sleep for the provider and the emulator: sleeping moves time."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def emu(clock: Clock) -> GitHubEmulator:
    emu = GitHubEmulator(token=TOKEN, clock=clock)
    emu.add_repo("acme/shop")
    return emu


def make(
    emu: GitHubEmulator,
    clock: Clock,
    tmp_path: Path,
    prefix: str = "",
    app: App | None = None,
    **env: str,
) -> GitHubProvider:
    """A provider reaching `emu` through the spec check (or through `app`, which wraps it)."""
    environ = {"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "acme/shop", **env}
    context = Context(
        env={k: v for k, v in environ.items() if v},
        base_dir=tmp_path,
        transport=httpx.MockTransport(app or spec_checked(emu.handle, prefix)),
        sleep=clock.sleep,
    )
    return GitHubProvider(context, clock=clock)


@pytest.fixture
def gh(emu: GitHubEmulator, clock: Clock, tmp_path: Path) -> GitHubProvider:
    return make(emu, clock, tmp_path)


def want(key: str, value: str = URL, secret: bool = True) -> Desired:
    return Desired(key, Secret(value), secret, "main")


def sync(gh: GitHubProvider, scope: Scope, *desired: Desired) -> Mapping[str, str | None]:
    """What the engine does for a scope: check, read, write the differences."""
    for d in desired:
        gh.check_key(scope, d)
    current = gh.read([scope])[scope]
    writes = [
        Write("update" if d.key in current else "create", d.key, d, current.get(d.key))
        for d in desired
    ]
    return gh.apply(scope, writes)


def writes(emu: GitHubEmulator) -> list[tuple[str, str]]:
    return [(entry.method, entry.path) for entry in emu.writes]


def test_first_write_leaves_the_plaintext_github_decrypts(
    gh: GitHubProvider, emu: GitHubEmulator
) -> None:
    repo = gh.scope("repo", {})
    markers = sync(gh, repo, want("DATABASE_URL"), want("PGHOST", "ep-x.neon.tech", False))
    current = gh.read([repo])[repo]
    assert emu.secret_plaintext("acme/shop", "DATABASE_URL") == URL
    assert emu.variable_value("acme/shop", "PGHOST") == "ep-x.neon.tech"
    assert current["DATABASE_URL"] == Current("DATABASE_URL", None, True, markers["DATABASE_URL"])
    assert current["PGHOST"].value == "ep-x.neon.tech" and not current["PGHOST"].secret
    assert markers["DATABASE_URL"] is not None and markers["PGHOST"] is None


def test_public_key_is_fetched_once_per_scope_and_only_for_secret_writes(
    gh: GitHubProvider, emu: GitHubEmulator
) -> None:
    repo = gh.scope("repo", {})
    sync(gh, repo, want("A_URL"), want("B_URL"))
    sync(gh, repo, want("A_URL", "postgres://new"))
    sync(gh, gh.scope("repo", {"environment": "dev"}), want("HOST", "h", secret=False))
    keys = [e.path for e in emu.log if e.path.endswith("/public-key")]
    assert keys == ["/repos/acme/shop/actions/secrets/public-key"]
    assert emu.secret_plaintext("acme/shop", "A_URL") == "postgres://new"


def test_secret_marker_moves_when_someone_else_rewrites_it(
    gh: GitHubProvider, emu: GitHubEmulator
) -> None:
    repo = gh.scope("repo", {})
    ours = sync(gh, repo, want("DATABASE_URL"))["DATABASE_URL"]
    emu.set_secret("acme/shop", "DATABASE_URL", "postgres://someone-else")
    theirs = gh.read([repo])[repo]["DATABASE_URL"].updated_at
    assert theirs is not None and ours is not None and theirs > ours


def test_variable_update_patches_and_create_of_existing_falls_back_to_patch(
    gh: GitHubProvider, emu: GitHubEmulator
) -> None:
    repo = gh.scope("repo", {})
    emu.set_variable("acme/shop", "PGHOST", "old")
    host = want("PGHOST", "new", secret=False)
    gh.apply(repo, [Write("create", "PGHOST", host, None)])  # stale plan: it exists
    assert emu.variable_value("acme/shop", "PGHOST") == "new"
    gh.apply(repo, [Write("update", "PGHOST", want("PGHOST", "newer", False), None)])
    assert emu.variable_value("acme/shop", "PGHOST") == "newer"
    assert [(e.method, e.status) for e in emu.writes] == [
        ("POST", 409),
        ("PATCH", 204),
        ("PATCH", 204),
    ]


def test_update_of_a_variable_deleted_meanwhile_creates_it(
    gh: GitHubProvider, emu: GitHubEmulator
) -> None:
    repo = gh.scope("repo", {})
    gone = Current("PGHOST", "old", secret=False)
    gh.apply(repo, [Write("update", "PGHOST", want("PGHOST", "new", False), gone)])
    assert emu.variable_value("acme/shop", "PGHOST") == "new"
    assert [(e.method, e.status) for e in emu.writes] == [("PATCH", 404), ("POST", 201)]


def test_missing_environment_reads_empty_and_is_created_on_write(
    gh: GitHubProvider, emu: GitHubEmulator
) -> None:
    env = gh.scope("repo", {"environment": "preview/pr-12"})
    assert env.id == "env:acme/shop/preview/pr-12"
    assert gh.read([env]) == {env: {}}
    sync(gh, env, want("DATABASE_URL"))
    assert emu.environment_names("acme/shop") == ["preview/pr-12"]
    assert emu.secret_plaintext("acme/shop", "DATABASE_URL", "preview/pr-12") == URL
    assert gh.created_scopes() == {"env:acme/shop/preview/pr-12"}
    assert ("PUT", "/repos/acme/shop/environments/preview/pr-12") in writes(emu)


def test_existing_environment_is_not_recreated(gh: GitHubProvider, emu: GitHubEmulator) -> None:
    emu.add_environment("acme/shop", "prod")
    env = gh.scope("repo", {"environment": "prod"})
    gh.apply(env, [Write("create", "DATABASE_URL", want("DATABASE_URL"), None)])  # no read
    assert gh.created_scopes() == frozenset()
    assert [m for m, _ in writes(emu)] == ["PUT"]  # the secret only


def test_missing_environment_without_create_environments_is_a_clear_error(
    gh: GitHubProvider, emu: GitHubEmulator
) -> None:
    env = gh.scope("repo", {"environment": "prod", "create_environments": False})
    gh.read([env])
    with pytest.raises(ProviderError, match="does not exist and create_environments is false"):
        gh.apply(env, [Write("create", "DATABASE_URL", want("DATABASE_URL"), None)])
    assert emu.writes == []


def test_unknown_repository_says_to_check_name_and_access(gh: GitHubProvider) -> None:
    for options in ({"repository": "acme/nope"}, {"repository": "acme/nope", "environment": "x"}):
        scope = gh.scope("repo", options)
        with pytest.raises(ApiError, match=r"\(404\).*Check that acme/nope exists and that"):
            gh.read([scope])


def test_reads_follow_pages(gh: GitHubProvider, emu: GitHubEmulator) -> None:
    emu.add_org("acme")
    for i in range(75):
        emu.set_variable("acme/shop", f"V{i:02}", str(i))
    for i in range(150):
        emu.set_secret("acme", f"S{i:03}", "x")
    repo, org = gh.scope("repo", {}), gh.scope("org", {"org": "acme"})
    found = gh.read([repo, org])
    assert len(found[repo]) == 75 and found[repo]["V74"].value == "74"
    assert len(found[org]) == 150
    listed = "/repos/acme/shop/actions/variables"
    assert [e.query.get("page", "1") for e in emu.log if e.path == listed] == ["1", "2", "3"]
    assert [
        e.query.get("page", "1") for e in emu.log if e.path == "/orgs/acme/actions/secrets"
    ] == ["1", "2"]


def test_page_links_outside_the_api_are_not_followed(
    gh: GitHubProvider, emu: GitHubEmulator
) -> None:
    link = '<https://evil.example/repos/acme/shop/actions/secrets?page=2>; rel="next"'
    body = {"total_count": 2, "secrets": []}
    emu.inject(200, body=body, headers={"link": link})
    with pytest.raises(ApiError, match=r"outside https://api\.github\.com"):
        gh.read([gh.scope("repo", {})])


def test_delete_removes_the_kind_that_is_there(gh: GitHubProvider, emu: GitHubEmulator) -> None:
    repo = gh.scope("repo", {})
    emu.set_secret("acme/shop", "OLD_URL", "x")
    emu.set_variable("acme/shop", "OLD_HOST", "h")
    done = gh.apply(
        repo,
        [
            Write("delete", "OLD_URL", None, Current("OLD_URL", None)),
            Write("delete", "OLD_HOST", None, Current("OLD_HOST", "h", secret=False)),
            Write("delete", "GONE", None, Current("GONE", None)),  # already deleted: fine
        ],
    )
    assert gh.read([repo])[repo] == {}
    assert done == {"OLD_URL": None, "OLD_HOST": None, "GONE": None}


def test_switching_a_variable_to_a_secret_removes_the_variable(
    gh: GitHubProvider, emu: GitHubEmulator
) -> None:
    repo = gh.scope("repo", {})
    emu.set_variable("acme/shop", "DATABASE_URL", "plain")
    sync(gh, repo, want("DATABASE_URL"))
    assert emu.variable_value("acme/shop", "DATABASE_URL") is None
    assert emu.secret_plaintext("acme/shop", "DATABASE_URL") == URL


def test_a_name_held_as_both_kinds_reads_as_the_kind_the_config_wants(
    gh: GitHubProvider, emu: GitHubEmulator
) -> None:
    repo = gh.scope("repo", {})
    emu.set_variable("acme/shop", "HOST", "h")
    emu.set_secret("acme/shop", "HOST", "s")
    found = gh.read([repo])[repo]["HOST"]
    holder = emu.holder("acme/shop")
    assert found == Current("HOST", "h", False, holder.variables["HOST"].updated_at)
    assert found.twin == Current("HOST", None, True, holder.secrets["HOST"].updated_at)
    state = State(b"k")
    as_variable = diff(
        [Entry(repo, want("HOST", "h", secret=False))], {repo: {"HOST": found}}, state
    )
    assert [c.action for c in as_variable] == [Action.NOOP]  # the variable already holds "h"
    as_secret = diff([Entry(repo, want("HOST", "h"))], {repo: {"HOST": found}}, state)
    assert [c.action for c in as_secret] == [Action.UNKNOWN]  # the secret, never recorded


@pytest.mark.parametrize(
    ("key", "rule"),
    [
        ("DATABASE-URL", "use letters, digits and _"),
        ("1URL", "not starting with a digit"),
        ("GITHUB_URL", "reserves names starting with GITHUB_"),
        ("github_url", "reserves names starting with GITHUB_"),
        ("NEON_SYNC_STATE", "holds neon-sync's state"),
        ("neon_sync_state", "holds neon-sync's state"),
    ],
)
def test_name_rules_are_config_errors_naming_the_var(
    gh: GitHubProvider, key: str, rule: str
) -> None:
    with pytest.raises(ConfigError, match=rule) as caught:
        gh.check_key(gh.scope("repo", {}), want(key))
    assert key in str(caught.value) and "target 'repo'" in str(caught.value)


def test_values_over_48_kb_are_refused_without_showing_them(gh: GitHubProvider) -> None:
    big = "p" * (48 * 1024 + 1)
    with pytest.raises(ConfigError, match="49153 bytes; GitHub holds at most 48 KB") as caught:
        gh.check_key(gh.scope("repo", {}), want("BIG", big))
    assert "ppppp" not in str(caught.value)
    gh.check_key(gh.scope("repo", {}), want("FITS", big[:-1]))


def test_a_101st_secret_is_refused_before_any_write(
    gh: GitHubProvider, emu: GitHubEmulator
) -> None:
    for i in range(100):
        emu.set_secret("acme/shop", f"S{i}", "x")
    repo = gh.scope("repo", {})
    gh.read([repo])
    with pytest.raises(ProviderError, match="would hold 101 secrets; GitHub allows 100"):
        gh.apply(repo, [Write("create", "NEW", want("NEW"), None)])
    assert emu.writes == []


@pytest.mark.parametrize(
    ("options", "env", "message"),
    [
        ({}, {"GITHUB_REPOSITORY": ""}, "set `repository: OWNER/NAME`"),
        ({"repository": "shop"}, {}, "repository must be OWNER/NAME"),
        ({"environment": ""}, {}, "environment is empty"),
        ({"create_environments": "maybe"}, {}, "create_environments must be true or false"),
        ({"org": "acme", "environment": "x"}, {}, "cannot be used together"),
        (
            {"org": "acme", "visibility": "public"},
            {},
            "visibility: .public. is not one of all, private, selected",
        ),
        (
            {"org": "acme", "visibility": "selected"},
            {},
            "`visibility: selected` needs `repositories:`",
        ),
        ({"org": "acme", "visibility": "selected", "repositories": ["shop"]}, {}, "numeric"),
        ({"visibility": "all"}, {}, "applies only with `org:`"),
    ],
)
def test_bad_options_are_config_errors_without_network(
    emu: GitHubEmulator,
    clock: Clock,
    tmp_path: Path,
    options: dict[str, Any],
    env: dict[str, str],
    message: str,
) -> None:
    gh = make(emu, clock, tmp_path, GITHUB_REPOSITORY=env.get("GITHUB_REPOSITORY", "acme/shop"))
    with pytest.raises(ConfigError, match=message):
        gh.scope("repo", options)
    assert emu.log == []


def test_scope_needs_no_token_but_reading_does(
    emu: GitHubEmulator, clock: Clock, tmp_path: Path
) -> None:
    gh = make(emu, clock, tmp_path, GITHUB_TOKEN="")
    scope = gh.scope("repo", {"environment": "pr-3"})
    assert scope == Scope("repo", "env:acme/shop/pr-3")
    with pytest.raises(ConfigError, match="set GITHUB_TOKEN or GH_TOKEN"):
        gh.read([scope])
    assert make(emu, clock, tmp_path, GITHUB_TOKEN="", GH_TOKEN=TOKEN).read([scope]) == {scope: {}}


def test_options_reach_the_scope_again_without_the_environment(gh: GitHubProvider) -> None:
    scope = gh.scope("repo", {"environment": "dev", "create_environments": False})
    again = GitHubProvider(Context(env={}, base_dir=Path())).scope("repo", scope.options)
    assert again == scope and again.options == scope.options


def test_bad_token_says_to_set_a_valid_one(
    emu: GitHubEmulator, clock: Clock, tmp_path: Path
) -> None:
    gh = make(emu, clock, tmp_path, GITHUB_TOKEN="ghp_wrong")
    with pytest.raises(ApiError, match=r"\(401\): Bad credentials\. GITHUB_TOKEN .* is wrong"):
        gh.read([gh.scope("repo", {})])


def test_workflow_token_error_names_the_permissions_needed(
    gh: GitHubProvider, emu: GitHubEmulator
) -> None:
    emu.workflow_token = True
    repo = gh.scope("repo", {})
    with pytest.raises(ProviderError) as caught:
        gh.apply(repo, [Write("create", "DATABASE_URL", want("DATABASE_URL"), None)])
    text = str(caught.value)
    assert "Resource not accessible by integration" in text
    assert "Secrets, Variables and Environments" in text and "`repo` scope" in text
    assert URL not in text and "npg_Pa55word" not in text and TOKEN not in text


def test_failure_midway_reports_what_was_written_and_never_the_values(
    gh: GitHubProvider, emu: GitHubEmulator
) -> None:
    repo = gh.scope("repo", {})
    gh.read([repo])
    emu.inject(422, method="PUT", path="B_URL$", body={"message": "Invalid request."})
    with pytest.raises(ProviderError) as caught:
        gh.apply(repo, [Write("create", k, want(k), None) for k in ("A_URL", "B_URL", "C_URL")])
    error = caught.value
    assert list(error.done) == ["A_URL"]
    assert error.done["A_URL"] == emu.holder("acme/shop").secrets["A_URL"].updated_at
    assert "write secret B_URL to repository acme/shop failed (422)" in str(error)
    assert "npg_Pa55word" not in str(error) and "npg_Pa55word" not in repr(error.done)


def test_primary_rate_limit_waits_until_reset(
    gh: GitHubProvider, emu: GitHubEmulator, clock: Clock
) -> None:
    emu.rate_limit(reset_in=42)
    assert gh.read([gh.scope("repo", {})])
    assert clock.slept == [43.0]  # until x-ratelimit-reset, and a second for clock skew


def test_secondary_rate_limit_honours_retry_after(
    gh: GitHubProvider, emu: GitHubEmulator, clock: Clock
) -> None:
    emu.rate_limit(status=429, retry_after=7, method="PUT")
    sync(gh, gh.scope("repo", {}), want("DATABASE_URL"))
    assert clock.slept == [7.0]
    assert emu.secret_plaintext("acme/shop", "DATABASE_URL") == URL


def test_a_rate_limit_resetting_in_an_hour_fails_with_when(
    gh: GitHubProvider, emu: GitHubEmulator, clock: Clock
) -> None:
    emu.rate_limit(reset_in=3600)
    with pytest.raises(ApiError, match=r"\(403\).*run again after it resets \(23:13:20 UTC\)"):
        gh.read([gh.scope("repo", {})])
    assert clock.slept == []


def test_writes_are_paced_under_80_a_minute(
    gh: GitHubProvider, emu: GitHubEmulator, clock: Clock
) -> None:
    repo = gh.scope("repo", {})
    start = clock.now
    sync(gh, repo, *(want(f"V{i:03}", str(i), secret=False) for i in range(200)))
    assert len(emu.writes) == 200
    assert clock.now - start == pytest.approx(190.0)  # a burst of 10, then one a second


def test_write_times_never_exceed_80_in_any_minute(
    emu: GitHubEmulator, clock: Clock, tmp_path: Path
) -> None:
    moments: list[float] = []

    def record(request: httpx.Request) -> httpx.Response:
        if request.method != "GET":
            moments.append(clock.now)
        return emu.handle(request)

    gh = make(emu, clock, tmp_path, app=record)
    sync(gh, gh.scope("repo", {}), *(want(f"V{i:03}", str(i), secret=False) for i in range(150)))
    assert len(moments) == 150
    assert max(sum(1 for t in moments if s <= t < s + 60) for s in moments) < 80


def test_requests_carry_githubs_headers_and_a_bearer_token(
    emu: GitHubEmulator, clock: Clock, tmp_path: Path
) -> None:
    seen: list[httpx.Headers] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers)
        return emu.handle(request)

    gh = make(emu, clock, tmp_path, app=record)
    sync(gh, gh.scope("repo", {}), want("DATABASE_URL"))
    assert len(seen) == 5  # list secrets and variables, public key, put, list for the marker
    for headers in seen:
        assert headers["accept"] == "application/vnd.github+json"
        assert headers["x-github-api-version"] == "2022-11-28"
        assert headers["authorization"] == f"Bearer {TOKEN}"


def test_org_scope_sends_visibility_and_selected_repositories(
    gh: GitHubProvider, emu: GitHubEmulator
) -> None:
    emu.add_org("acme")
    org = gh.scope("org", {"org": "acme", "visibility": "selected", "repositories": ["42", 7]})
    assert org.id == "org:acme"
    sync(gh, org, want("DATABASE_URL"), want("PGHOST", "h", secret=False))
    secret = emu.holder("acme").secrets["DATABASE_URL"]
    assert (secret.value, secret.visibility, secret.selected) == (URL, "selected", [42, 7])
    assert emu.holder("acme").variables["PGHOST"].visibility == "selected"


def test_ghes_api_url_with_a_path(emu: GitHubEmulator, clock: Clock, tmp_path: Path) -> None:
    gh = make(emu, clock, tmp_path, prefix="/api/v3", GITHUB_API_URL="https://ghe.example/api/v3")
    sync(gh, gh.scope("repo", {}), want("DATABASE_URL"))
    assert emu.secret_plaintext("acme/shop", "DATABASE_URL") == URL


def test_plain_http_api_url_is_refused_unless_loopback(
    emu: GitHubEmulator, clock: Clock, tmp_path: Path
) -> None:
    gh = make(emu, clock, tmp_path, GITHUB_API_URL="http://github.example")
    with pytest.raises(ConfigError, match="must be an https:// URL"):
        gh.read([gh.scope("repo", {})])


def test_remove_scope_deletes_an_environment_only_when_empty(
    gh: GitHubProvider, emu: GitHubEmulator
) -> None:
    env = gh.scope("repo", {"environment": "pr-1"})
    sync(gh, env, want("DATABASE_URL"))
    assert gh.remove_scope(env) is False
    gh.apply(env, [Write("delete", "DATABASE_URL", None, Current("DATABASE_URL", None))])
    assert gh.remove_scope(env) is True
    assert emu.environment_names("acme/shop") == []


def test_module_contract(tmp_path: Path) -> None:
    assert {"repository", "environment", "create_environments", "org"} <= module.OPTIONS
    provider = module.create(Context(env={}, base_dir=tmp_path))
    assert provider.scope("repo", {"repository": "acme/shop"}).id == "repo:acme/shop"
    provider.close()


# -- the state store ------------------------------------------------------------------------


def store_for(
    emu: GitHubEmulator, clock: Clock, tmp_path: Path, options: Mapping[str, object] | None = None
) -> VariableStateStore:
    context = Context(
        env={"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": "acme/shop"},
        base_dir=tmp_path,
        transport=httpx.MockTransport(spec_checked(emu.handle)),
        sleep=clock.sleep,
    )
    store = GitHubProvider(context).state_store(dict(options or {}))
    assert isinstance(store, VariableStateStore)
    return store


DOC = {"version": 1, "records": [{"target": "repo", "key": "DATABASE_URL", "fingerprint": "ab"}]}


def test_state_store_round_trips_as_one_compact_repository_variable(
    emu: GitHubEmulator, clock: Clock, tmp_path: Path
) -> None:
    store = store_for(emu, clock, tmp_path, {"environment": "pr-1"})
    assert store.load() is None
    store.save(DOC)
    store.save({**DOC, "version": 1})
    again = store_for(emu, clock, tmp_path)
    assert again.load() == DOC
    raw = emu.variable_value("acme/shop", "NEON_SYNC_STATE")
    assert raw is not None and " " not in raw
    assert [(e.method, e.status) for e in emu.writes] == [("POST", 201), ("PATCH", 204)]


def test_state_variable_is_hidden_from_reads_and_can_be_renamed(
    emu: GitHubEmulator, clock: Clock, tmp_path: Path, gh: GitHubProvider
) -> None:
    store_for(emu, clock, tmp_path).save(DOC)
    store_for(emu, clock, tmp_path, {"state_variable": "SYNC_STATE"}).save(DOC)
    repo = gh.scope("repo", {"state_variable": "SYNC_STATE"})
    assert set(gh.read([gh.scope("repo", {})])[gh.scope("repo", {})]) == {"SYNC_STATE"}
    assert set(gh.read([repo])[repo]) == {"NEON_SYNC_STATE"}


def test_a_lower_case_state_variable_is_hidden_as_github_stores_it(
    emu: GitHubEmulator, clock: Clock, tmp_path: Path, gh: GitHubProvider
) -> None:
    store_for(emu, clock, tmp_path, {"state_variable": "sync_state"}).save(DOC)
    assert emu.variable_value("acme/shop", "SYNC_STATE") is not None
    repo = gh.scope("repo", {"state_variable": "sync_state"})
    assert set(gh.read([repo])[repo]) == set()
    with pytest.raises(ConfigError, match="holds neon-sync's state"):
        gh.check_key(repo, want("SYNC_STATE"))


def test_state_over_48_kb_is_a_clear_error(
    emu: GitHubEmulator, clock: Clock, tmp_path: Path
) -> None:
    store = store_for(emu, clock, tmp_path)
    big = {"records": [{"fingerprint": "f" * 32, "key": f"K{i}"} for i in range(2000)]}
    with pytest.raises(StateError, match=r"over GitHub's 48 KB limit.*keep state in a file"):
        store.save(big)
    assert emu.writes == []


def test_state_that_is_not_json_is_a_clear_error(
    emu: GitHubEmulator, clock: Clock, tmp_path: Path
) -> None:
    emu.set_variable("acme/shop", "NEON_SYNC_STATE", "hello")
    with pytest.raises(StateError, match="does not hold neon-sync state JSON"):
        store_for(emu, clock, tmp_path).load()


def test_state_store_errors_are_state_errors(
    emu: GitHubEmulator, clock: Clock, tmp_path: Path
) -> None:
    emu.workflow_token = True
    with pytest.raises(StateError, match="Resource not accessible by integration"):
        store_for(emu, clock, tmp_path).load()


def test_org_state_is_visible_to_no_repository(
    emu: GitHubEmulator, clock: Clock, tmp_path: Path
) -> None:
    emu.add_org("acme")
    store_for(emu, clock, tmp_path, {"org": "acme"}).save(DOC)
    variable = emu.holder("acme").variables["NEON_SYNC_STATE"]
    assert (variable.visibility, variable.selected) == ("selected", [])
