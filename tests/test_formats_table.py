"""One table of formats and options: the config, the string writer and the CLI accept the
same values, and a bad one in the config is refused at its line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from neon_sync.config import model
from neon_sync.config.vars import parse_var
from neon_sync.errors import ConfigError
from neon_sync.neon.connstr import ConnectionInfo, UrlOptions, build
from neon_sync.neon.formats import CHANNEL_BINDING_CHOICES, FORMATS, SSLMODES
from neon_sync.secret import Secret
from tests.conftest import Result

INFO = ConnectionInfo("ep-a.neon.tech", "ep-a", "neondb_owner", Secret("pw-1"), "neondb")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_in_the_table_is_accepted_by_config_and_written(fmt: str) -> None:
    var = parse_var("X", {"url": "pooled", "format": fmt}, "here", frozenset())
    assert var.format == fmt
    assert (
        "ep-a-pooler.neon.tech" in build(INFO, UrlOptions(pooled=True, format=var.format)).reveal()
    )


def test_a_format_outside_the_table_is_refused_with_the_choices() -> None:
    with pytest.raises(ConfigError, match="npgsql"):
        parse_var("X", {"url": "pooled", "format": "odbc"}, "here", frozenset())


@pytest.mark.parametrize(
    ("key", "value", "choices"),
    [("sslmode", "required", SSLMODES), ("channel_binding", "always", CHANNEL_BINDING_CHOICES)],
)
def test_bad_neon_connection_option_is_refused_at_its_line(
    tmp_path: Path, key: str, value: str, choices: tuple[str, ...]
) -> None:
    path = tmp_path / "neon-sync.yaml"
    path.write_text(
        f"version: 1\nneon:\n  project_id: p-1\n  {key}: {value}\n"
        "targets:\n  t:\n    provider: dotenv\n    path: .env\n"
        "branches:\n  - match: main\n    sync:\n      - target: t\n        vars: {A: pooled}\n"
    )
    with pytest.raises(ConfigError) as caught:
        model.load(path, {})
    message = str(caught.value)
    assert ":4:" in message and all(choice in message for choice in choices)


def test_url_help_lists_every_format(run_cli: Callable[..., Result]) -> None:
    result = run_cli("url", "--help")
    for fmt in FORMATS:
        assert fmt in result.stdout
