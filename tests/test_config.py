"""Config loading: the example works verbatim; every error names file:line:col and what to do."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from neon_sync.config import model as config_mod
from neon_sync.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
ENV = {"NEON_PROJECT_ID": "proj-demo"}

BASE = """\
version: 1
neon:
  project_id: proj-x
targets:
  local:
    provider: dotenv
    path: .env
branches:
  - match: main
    sync:
      - target: local
        vars:
          DATABASE_URL: pooled
"""


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> config_mod.Config:
    path = tmp_path / "neon-sync.yaml"
    path.write_text(text)
    return config_mod.load(path, env if env is not None else ENV)


def error_of(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, env)
    return str(caught.value)


def test_example_config_loads_verbatim(tmp_path: Path) -> None:
    shutil.copy(ROOT / "neon-sync.yaml", tmp_path / "neon-sync.yaml")
    config = config_mod.load(tmp_path / "neon-sync.yaml", ENV)
    assert config.neon.project_id == "proj-demo"
    assert set(config.targets) == {"local", "repo", "shop"}
    assert [rule.matcher.pattern for rule in config.rules] == [
        "main",
        "preview/{git_branch}",
        "dev/{user}",
    ]
    preview = config.rules[1].items[0]
    assert [v.name for v in preview.vars] == ["DATABASE_URL", "DIRECT_URL"]
    assert preview.vars[0].format == "prisma" and preview.vars[0].url == "pooled"
    dev = config.rules[2].items[0]
    assert dev.options["path"] == ".env.{user}"
    analytics = dev.vars[3]
    assert (analytics.database, analytics.role, analytics.format) == (
        "analytics",
        "analyst",
        "jdbc",
    )


def test_env_expansion_with_default(tmp_path: Path) -> None:
    text = BASE.replace("proj-x", "${PID:-proj-fallback}")
    assert load(tmp_path, text, {}).neon.project_id == "proj-fallback"
    assert load(tmp_path, text, {"PID": "proj-real"}).neon.project_id == "proj-real"


def test_missing_env_var_is_named_with_location(tmp_path: Path) -> None:
    message = error_of(tmp_path, BASE.replace("proj-x", "${NEON_PROJECT_ID}"), {})
    assert "neon-sync.yaml:3:15" in message
    assert "NEON_PROJECT_ID is not set" in message


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    message = error_of(tmp_path, BASE.replace("    path: .env", "    pth: .env"))
    assert "neon-sync.yaml:7:5" in message
    assert "unknown key 'pth'" in message and "did you mean 'path'" in message


def test_unknown_var_option_suggests(tmp_path: Path) -> None:
    text = BASE.replace("DATABASE_URL: pooled", "DATABASE_URL: { url: pooled, fromat: jdbc }")
    message = error_of(tmp_path, text)
    assert "did you mean 'format'" in message and ":13:" in message


def test_version_other_than_one_is_refused(tmp_path: Path) -> None:
    message = error_of(tmp_path, BASE.replace("version: 1", "version: 2"))
    assert "neon-sync.yaml:1:10" in message and "version: 1" in message


def test_unknown_target_in_sync_item(tmp_path: Path) -> None:
    message = error_of(tmp_path, BASE.replace("- target: local", "- target: locl"))
    assert "unknown target 'locl'" in message and "did you mean 'local'" in message


def test_unknown_placeholder_is_an_error(tmp_path: Path) -> None:
    text = BASE.replace("DATABASE_URL: pooled", 'DATABASE_URL: "postgres://{usr}@{host}"')
    message = error_of(tmp_path, text)
    assert "unknown placeholder {usr}" in message and ":13:" in message


def test_unknown_placeholder_in_target_option(tmp_path: Path) -> None:
    text = BASE.replace(
        "      - target: local\n", '      - target: local\n        path: ".env.{user}"\n'
    )
    message = error_of(tmp_path, text)
    assert "unknown placeholder {user}" in message


def test_capture_may_not_reuse_builtin_name(tmp_path: Path) -> None:
    message = error_of(tmp_path, BASE.replace("match: main", 'match: "dev/{host}"'))
    assert "capture {host}" in message


def test_captures_usable_in_options_and_values(tmp_path: Path) -> None:
    text = (
        BASE.replace("match: main", 'match: "dev/{user}"')
        .replace("      - target: local\n", '      - target: local\n        path: ".env.{user}"\n')
        .replace("DATABASE_URL: pooled", 'WHO: { value: "{user}-{branch}", secret: false }')
    )
    config = load(tmp_path, text)
    assert config.rules[0].matcher.captures == ("user",)


def test_preset_with_prefix_and_override(tmp_path: Path) -> None:
    text = BASE.replace(
        "        vars:\n          DATABASE_URL: pooled\n",
        "        preset: libpq\n        prefix: APP_\n        vars:\n          PGPORT: '6543'\n",
    )
    item = load(tmp_path, text).rules[0].items[0]
    names = [v.name for v in item.vars]
    assert names == [
        "APP_PGHOST",
        "APP_PGPORT",
        "APP_PGUSER",
        "APP_PGPASSWORD",
        "APP_PGDATABASE",
        "APP_PGSSLMODE",
    ]
    assert item.vars[1].value == "6543"


def test_vercel_postgres_preset_has_the_fifteen_names(tmp_path: Path) -> None:
    text = BASE.replace(
        "        vars:\n          DATABASE_URL: pooled\n", "        preset: vercel-postgres\n"
    )
    item = load(tmp_path, text).rules[0].items[0]
    by_name = {v.name: v for v in item.vars}
    assert len(by_name) == 15
    assert by_name["POSTGRES_URL_NON_POOLING"].url == "direct"
    assert by_name["POSTGRES_URL_NO_SSL"].bare and by_name["POSTGRES_URL_NO_SSL"].url == "pooled"
    assert by_name["PGHOST"].value == "{pooled_host}"


def test_unknown_preset_suggests(tmp_path: Path) -> None:
    text = BASE.replace(
        "        vars:\n          DATABASE_URL: pooled\n", "        preset: prsma\n"
    )
    assert "did you mean 'prisma'" in error_of(tmp_path, text)


def test_bad_var_choice(tmp_path: Path) -> None:
    text = BASE.replace("DATABASE_URL: pooled", "DATABASE_URL: { url: pooled, endpoint: replica }")
    message = error_of(tmp_path, text)
    assert "13:50: endpoint: 'replica' is not one of read_write, read_only" in message


def test_url_and_value_are_exclusive(tmp_path: Path) -> None:
    text = BASE.replace("DATABASE_URL: pooled", "DATABASE_URL: { url: pooled, value: x }")
    assert "exactly one of" in error_of(tmp_path, text)


def test_invalid_yaml_points_at_the_problem(tmp_path: Path) -> None:
    message = error_of(tmp_path, BASE.replace("  local:\n", "  local:\n   bad: [\n"))
    assert "invalid YAML" in message and "neon-sync.yaml:" in message


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    text = BASE.replace(
        "          DATABASE_URL: pooled\n", "          A: pooled\n          A: direct\n"
    )
    assert "duplicate key 'A'" in error_of(tmp_path, text)


def test_unknown_provider(tmp_path: Path) -> None:
    message = error_of(tmp_path, BASE.replace("provider: dotenv", "provider: netlify"))
    assert ":6:15: targets.local.provider: 'netlify' is not one of dotenv, github" in message


def test_empty_file(tmp_path: Path) -> None:
    assert "empty" in error_of(tmp_path, "")


def test_rule_needs_match_or_default(tmp_path: Path) -> None:
    assert "needs `match: PATTERN` or `default: true`" in error_of(
        tmp_path, BASE.replace("  - match: main\n", "  - sync:\n").replace("    sync:\n", "", 1)
    )


def test_find_walks_up_to_the_nearest_parent(tmp_path: Path) -> None:
    (tmp_path / "neon-sync.yaml").write_text(BASE)
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert config_mod.find(None, {}, deep) == (tmp_path / "neon-sync.yaml").resolve()


def test_find_prefers_flag_then_env(tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text(BASE)
    assert config_mod.find(None, {"NEON_SYNC_CONFIG": str(other)}, tmp_path) == other.resolve()
    with pytest.raises(ConfigError, match="not found"):
        config_mod.find(str(tmp_path / "nope.yaml"), {}, tmp_path)


def test_api_host_from_env_overrides_config(tmp_path: Path) -> None:
    config = load(tmp_path, BASE, {"NEON_API_HOST": "http://127.0.0.1:9/api/v2"})
    assert config.neon.api_host == "http://127.0.0.1:9/api/v2"
