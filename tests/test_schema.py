"""The JSON Schema of neon-sync.yaml: generated from the loader's own model, shipped as is,
accepting every example config (and README snippet), rejecting the suite's bad configs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from neon_sync.config import model as config_mod
from neon_sync.config import schema
from neon_sync.errors import ConfigError
from tests.conftest import Result
from tests.test_config import BASE, ROOT

ITEM = "        vars:\n          DATABASE_URL: pooled\n"
# Every structural mistake the loader reports (tests/test_config.py); the schema must agree.
BAD = {
    "unknown top-level key": BASE + "extra: 1\n",
    "unknown target option": BASE.replace("    path: .env", "    pth: .env"),
    "unknown var option": BASE.replace(
        "DATABASE_URL: pooled", "DATABASE_URL: { url: pooled, fromat: jdbc }"
    ),
    "version 2": BASE.replace("version: 1", "version: 2"),
    "unknown preset": BASE.replace(ITEM, "        preset: prsma\n"),
    "bad var choice": BASE.replace(
        "DATABASE_URL: pooled", "DATABASE_URL: { url: pooled, endpoint: replica }"
    ),
    "url and value": BASE.replace(
        "DATABASE_URL: pooled", "DATABASE_URL: { url: pooled, value: x }"
    ),
    "rule without match or default": BASE.replace("  - match: main\n", "  - sync:\n").replace(
        "    sync:\n", "", 1
    ),
    "item without vars or preset": BASE.replace(ITEM, ""),
    "no project id": BASE.replace("  project_id: proj-x\n", "  database: neondb\n"),
    "unknown neon key": BASE.replace("  project_id: proj-x\n", "  project_id: proj-x\n  rol: x\n"),
    "sni_workaround not a bool": BASE.replace(
        "  project_id: proj-x\n", "  project_id: proj-x\n  sni_workaround: maybe\n"
    ),
    "empty sync list": BASE.replace(
        "    sync:\n" + "      - target: local\n" + ITEM, "    sync: []\n"
    ),
    "secret not a bool": BASE.replace(
        "DATABASE_URL: pooled", "DATABASE_URL: { url: pooled, secret: yes please }"
    ),
    "unknown state key": BASE + "state: { file: x }\n",
}


def validator() -> jsonschema.protocols.Validator:
    doc = json.loads(schema.SHIPPED.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(doc)
    cls.check_schema(doc)
    return cls(doc)


def readme_configs() -> list[str]:
    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    return [b for b in blocks if re.search(r"^version:", b, re.MULTILINE)]


def test_shipped_schema_is_what_the_generator_makes_now() -> None:
    assert schema.SHIPPED.read_text(encoding="utf-8") == schema.text(), (
        "run: python -m neon_sync.config.schema"
    )


def test_schema_command_prints_the_shipped_schema(run_cli: Any) -> None:
    result: Result = run_cli("schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == schema.generate()


@pytest.mark.parametrize(
    "path",
    ["neon-sync.yaml", "examples/neon-sync.yaml", "sync/config/example.yaml"],
)
def test_every_example_config_validates(path: str) -> None:
    validator().validate(yaml.safe_load((ROOT / path).read_text(encoding="utf-8")))


def test_every_readme_config_snippet_validates() -> None:
    snippets = readme_configs()
    assert snippets, "the README's configuration reference holds a config"
    for text in snippets:
        validator().validate(yaml.safe_load(text))


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_config_is_refused_by_both_the_loader_and_the_schema(
    name: str, tmp_path: Path
) -> None:
    text = BAD[name]
    path = tmp_path / "neon-sync.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        config_mod.load(path, {})
    errors = list(validator().iter_errors(yaml.safe_load(text)))
    assert errors, f"the schema accepts: {name}"


def test_the_base_config_the_bad_ones_come_from_is_valid(tmp_path: Path) -> None:
    validator().validate(yaml.safe_load(BASE))
    path = tmp_path / "neon-sync.yaml"
    path.write_text(BASE, encoding="utf-8")
    config_mod.load(path, {})
