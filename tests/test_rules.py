from __future__ import annotations

import pytest

from neon_sync.config.rules import Matcher, check_template, fields_of
from neon_sync.errors import ConfigError


def matcher(pattern: str | None, default: bool = False) -> Matcher:
    return Matcher.parse(pattern, default, "f:1:1")


def test_exact_name_matches_only_itself() -> None:
    assert matcher("main").match("main", False) == {}
    assert matcher("main").match("main2", False) is None


def test_glob_star_stays_within_a_segment() -> None:
    assert matcher("preview/*").match("preview/pr-1", False) == {}
    assert matcher("preview/*").match("preview/a/b", False) is None
    assert matcher("preview/**").match("preview/a/b", False) == {}
    assert matcher("pr-?").match("pr-7", False) == {}


def test_captures_take_the_rest_including_slashes() -> None:
    assert matcher("preview/{git_branch}").match("preview/feature/login", False) == {
        "git_branch": "feature/login"
    }
    assert matcher("{team}/{user}").match("core/alice/x", False) == {
        "team": "core",
        "user": "alice/x",
    }
    assert matcher("preview/{b}").match("preview/", False) is None


def test_regex_characters_in_names_are_literal() -> None:
    assert matcher("release.1+{n}").match("release.1+2", False) == {"n": "2"}
    assert matcher("release.1+{n}").match("releasex1+2", False) is None


def test_default_matches_the_project_default_branch() -> None:
    assert matcher(None, default=True).match("production", True) == {}
    assert matcher(None, default=True).match("main", False) is None


def test_template_fields_and_literal_braces() -> None:
    assert fields_of("{host}:{port} {{literal}}", "w") == {"host", "port"}
    with pytest.raises(ConfigError, match="unknown placeholder"):
        check_template("{nope}", {"host"}, "w")
    with pytest.raises(ConfigError, match="bad template"):
        check_template("{unclosed", {"host"}, "w")
    with pytest.raises(ConfigError, match="bad placeholder"):
        check_template("{host!r}", {"host"}, "w")
