"""The diff is pure: desired + current + records -> actions."""

from __future__ import annotations

import json

from neon_sync.engine.plan import Action, Change, Entry, diff
from neon_sync.engine.state import Record, State
from neon_sync.providers.base import Current, Desired, Scope
from neon_sync.secret import Secret

SCOPE = Scope("repo", "repo:acme/shop", {"repository": "acme/shop"})


def want(key: str, value: str, branch: str = "main") -> Entry:
    return Entry(SCOPE, Desired(key, Secret(value, masked="masked"), True, branch))


def actions(changes: list) -> dict[str, Action]:  # type: ignore[type-arg]
    return {change.key: change.action for change in changes}


def test_missing_key_is_created_and_equal_value_is_noop() -> None:
    current = {SCOPE: {"B": Current("B", "same")}}
    changes = diff([want("A", "x"), want("B", "same")], current, State(b"k"))
    assert actions(changes) == {"A": Action.CREATE, "B": Action.NOOP}


def test_readable_value_that_differs_is_updated() -> None:
    current = {SCOPE: {"A": Current("A", "old")}}
    assert actions(diff([want("A", "new")], current, State(b"k"))) == {"A": Action.UPDATE}


def test_write_only_value_without_record_is_unknown() -> None:
    current = {SCOPE: {"A": Current("A", None, updated_at="t1")}}
    assert actions(diff([want("A", "x")], current, State(b"k"))) == {"A": Action.UNKNOWN}


def test_write_only_value_with_matching_record_is_noop() -> None:
    state = State(b"k")
    state.put(SCOPE, "A", Record(state.fingerprint(SCOPE, "A", "x"), "main", "t1"))
    current = {SCOPE: {"A": Current("A", None, updated_at="t1")}}
    assert actions(diff([want("A", "x")], current, state)) == {"A": Action.NOOP}


def test_write_only_value_changed_by_someone_else_is_drift() -> None:
    state = State(b"k")
    state.put(SCOPE, "A", Record(state.fingerprint(SCOPE, "A", "x"), "main", "t1"))
    current = {SCOPE: {"A": Current("A", None, updated_at="t2")}}
    [change] = diff([want("A", "x")], current, state)
    assert change.action is Action.UPDATE and "drift" in change.reason


def test_write_only_value_whose_source_changed_is_updated() -> None:
    state = State(b"k")
    state.put(SCOPE, "A", Record(state.fingerprint(SCOPE, "A", "old-password"), "main", "t1"))
    current = {SCOPE: {"A": Current("A", None, updated_at="t1")}}
    assert actions(diff([want("A", "new-password")], current, state)) == {"A": Action.UPDATE}


def test_fingerprint_is_keyed() -> None:
    assert State(b"k1").fingerprint(SCOPE, "A", "x") != State(b"k2").fingerprint(SCOPE, "A", "x")


def test_prune_deletes_only_owned_keys_of_gone_branches() -> None:
    state = State(b"k")
    state.put(SCOPE, "OLD", Record(state.fingerprint(SCOPE, "OLD", "v"), "preview/gone"))
    state.put(SCOPE, "LIVE", Record(state.fingerprint(SCOPE, "LIVE", "v"), "main"))
    current = {
        SCOPE: {
            "OLD": Current("OLD", "v"),
            "LIVE": Current("LIVE", "v"),
            "THEIRS": Current("THEIRS", "v"),
        }
    }
    changes = diff([], current, state, prune=True, live_branches=frozenset({"main"}))
    assert actions(changes) == {"OLD": Action.DELETE}


def test_prune_keeps_a_value_edited_since_it_was_written_unless_forced() -> None:
    state = State(b"k")
    state.put(SCOPE, "READ", Record(state.fingerprint(SCOPE, "READ", "ours"), "gone"))
    state.put(SCOPE, "SECRET", Record(state.fingerprint(SCOPE, "SECRET", "x"), "gone", "t1"))
    current = {
        SCOPE: {
            "READ": Current("READ", "edited by hand"),
            "SECRET": Current("SECRET", None, updated_at="t2"),  # write-only, touched since
        }
    }
    kept: list[Change] = []
    assert diff([], current, state, prune=True, live_branches=frozenset({"main"}), kept=kept) == []
    assert sorted(c.key for c in kept) == ["READ", "SECRET"]
    forced = diff([], current, state, prune=True, live_branches=frozenset({"main"}), force=True)
    assert actions(forced) == {"READ": Action.DELETE, "SECRET": Action.DELETE}


def test_prune_uses_the_providers_own_owner_marker() -> None:
    current = {
        SCOPE: {"X": Current("X", "v", owner="preview/gone"), "Y": Current("Y", "v", owner="main")}
    }
    changes = diff([], current, State(b"k"), prune=True, live_branches=frozenset({"main"}))
    assert actions(changes) == {"X": Action.DELETE}


def test_prune_can_be_narrowed_to_some_branches() -> None:
    current = {SCOPE: {"X": Current("X", "v", owner="a"), "Y": Current("Y", "v", owner="b")}}
    changes = diff(
        [], current, State(b"k"), prune=True, live_branches=frozenset(), prune_only=frozenset({"a"})
    )
    assert actions(changes) == {"X": Action.DELETE}


def test_without_prune_nothing_is_deleted() -> None:
    current = {SCOPE: {"X": Current("X", "v", owner="gone")}}
    assert diff([], current, State(b"k"), live_branches=frozenset()) == []


def test_plan_is_sorted_and_json_has_no_values() -> None:
    changes = diff([want("B", "secret-b"), want("A", "secret-a")], {}, State(b"k"))
    assert [c.key for c in changes] == ["A", "B"]
    text = json.dumps([c.to_json() for c in changes])
    assert "secret-a" not in text and json.loads(text)[0] == {
        "branch": "main",
        "target": "repo",
        "scope": "repo:acme/shop",
        "key": "A",
        "action": "create",
        "reason": "missing",
    }


def test_state_document_round_trips_without_values() -> None:
    state = State(b"k")
    state.put(
        SCOPE,
        "A",
        Record(
            state.fingerprint(SCOPE, "A", "hunter22"), "main", "t1", {"repository": "acme/shop"}
        ),
    )
    document = state.document()
    assert "hunter22" not in json.dumps(document)
    again = State.from_document(b"k", document)
    assert again.get(SCOPE, "A") == state.get(SCOPE, "A")
    assert [(s.id, k) for s, k, _ in again.owned()] == [("repo:acme/shop", "A")]


def test_rebase_keeps_records_another_run_saved_meanwhile() -> None:
    other = Scope("repo", "env:acme/shop/pr-2", {})
    mine = State(b"k")
    mine.put(SCOPE, "A", Record("fp-a", "main"))
    mine.drop(SCOPE, "GONE")  # not there: no edit
    latest = State(b"k")
    latest.put(other, "B", Record("fp-b", "preview/pr-2"))  # saved by a concurrent run
    latest.put(SCOPE, "OLD", Record("fp-old", "preview/pr-1"))
    mine.put(SCOPE, "OLD", Record("fp-old", "preview/pr-1"))
    mine.drop(SCOPE, "OLD")
    merged = mine.rebase(latest)
    assert merged.get(SCOPE, "A") == Record("fp-a", "main")
    assert merged.get(other, "B") == Record("fp-b", "preview/pr-2")
    assert merged.get(SCOPE, "OLD") is None
    # The edits stay this run's until saved: a save that races another run merges again.
    assert merged.rebase(latest).get(SCOPE, "A") == Record("fp-a", "main")
    merged.saved()
    assert not merged.changed
