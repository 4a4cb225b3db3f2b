"""The JSON Schema of neon-sync.yaml, generated from what the loader itself checks: the key
sets of model.py, the frozen dataclasses' field types (Neon, Var), the choices of vars.py,
the presets and the built-in providers' OPTIONS. Nothing here is a second copy to keep in step.

`python -m neon_sync.config.schema` rewrites the copy shipped in the package
(neon-sync.schema.json); a test fails when that copy and this generator disagree."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any, Literal

from neon_sync import providers
from neon_sync.config import model
from neon_sync.config.presets import PRESETS
from neon_sync.config.vars import VAR_CHOICES, VAR_KEYS, Var

SHIPPED = Path(__file__).resolve().with_name("neon-sync.schema.json")  # the source file
# Where editors fetch it from (`# yaml-language-server: $schema=...`, written by `init`).
SCHEMA_URL = (
    "https://raw.githubusercontent.com/neon-sync/neon-sync/main/sync/config/neon-sync.schema.json"
)
Json = dict[str, Any]


def _type(hint: Any) -> Json:
    """JSON Schema of a dataclass field's annotation (None dropped: a key is optional)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        kinds = [a for a in typing.get_args(hint) if a is not type(None)]
        return _type(kinds[0]) if len(kinds) == 1 else {"anyOf": [_type(k) for k in kinds]}
    if typing.get_origin(hint) is Literal:
        return {"enum": list(typing.get_args(hint))}
    if typing.get_origin(hint) is tuple:  # pairs, written in YAML as a mapping
        return {"type": "object", "additionalProperties": {"type": ["string", "integer"]}}
    names = {str: "string", bool: "boolean", int: "integer"}
    return {"type": names[hint]}


def _fields(cls: type, keys: frozenset[str], choices: dict[str, tuple[str, ...]]) -> Json:
    hints = typing.get_type_hints(cls)
    out: Json = {}
    for field in dataclasses.fields(cls):
        if field.name not in keys:
            continue
        spec: Json = (
            {"enum": list(choices[field.name])}
            if field.name in choices
            else _type(hints[field.name])
        )
        if spec.get("type") == "string":
            spec["minLength"] = 1
        if isinstance(field.default, (str, bool, int)):
            spec["default"] = field.default
        out[field.name] = spec
    return out


def _neon() -> Json:
    fields = _fields(model.Neon, model.NEON_KEYS, {})
    required = [f.name for f in dataclasses.fields(model.Neon) if f.default is dataclasses.MISSING]
    return {
        "type": "object",
        "description": "The Neon project and the defaults of every var. The API key comes only "
        "from NEON_API_KEY.",
        "properties": fields,
        "required": required,
        "additionalProperties": False,
    }


def _var() -> Json:
    mapping = {
        "type": "object",
        "properties": _fields(Var, VAR_KEYS, VAR_CHOICES),
        "additionalProperties": False,
        "oneOf": [{"required": ["url"]}, {"required": ["value"]}],
    }
    shorthand = {
        "type": "string",
        "minLength": 1,
        "description": "pooled, direct, or a template such as {pooled_host}",
    }
    return {"anyOf": [shorthand, mapping]}


def _builtin_options() -> dict[str, frozenset[str]]:
    return {name: frozenset(providers.module(name).OPTIONS) for name in sorted(providers.REGISTRY)}


def _target(options: dict[str, frozenset[str]]) -> Json:
    rules = [
        {
            "if": {"properties": {"provider": {"const": name}}},
            "then": {"propertyNames": {"enum": sorted(keys | {"provider"})}},
        }
        for name, keys in options.items()
    ]
    return {
        "type": "object",
        "properties": {
            "provider": {
                "type": "string",
                "description": f"{', '.join(options)}, or an installed plugin's name",
            }
        },
        "required": ["provider"],
        "allOf": rules,
    }


def _item(options: dict[str, frozenset[str]]) -> Json:
    overrides = sorted(set().union(*options.values()))
    return {
        "type": "object",
        "description": "A target to write to; may override the target's options "
        f"({', '.join(overrides)}).",
        "properties": {
            "target": {"type": "string", "minLength": 1},
            "vars": {"type": "object", "additionalProperties": {"$ref": "#/$defs/var"}},
            "preset": {"enum": sorted(PRESETS)},
            "prefix": {"type": "string"},
            "rename": {
                "type": "object",
                "description": "A preset's variable name -> the name to write it under.",
                "additionalProperties": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
            },
        },
        "required": ["target"],
        "propertyNames": {"enum": sorted(model.ITEM_KEYS | set(overrides))},
        "anyOf": [{"required": ["vars"]}, {"required": ["preset"]}],
    }


def _rule() -> Json:
    return {
        "type": "object",
        "properties": {
            "match": {"type": "string", "minLength": 1},
            "default": {"type": "boolean"},
            "sync": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/item"}},
        },
        "required": ["sync"],
        "propertyNames": {"enum": sorted(model.RULE_KEYS)},
        "anyOf": [
            {"required": ["match"]},
            {"required": ["default"], "properties": {"default": {"const": True}}},
        ],
    }


def generate() -> Json:
    options = _builtin_options()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_URL,
        "title": "neon-sync.yaml",
        "description": "Which Neon branch's connection strings go where (neon-sync).",
        "type": "object",
        "properties": {
            "version": {"const": 1},
            "neon": {"$ref": "#/$defs/neon"},
            "targets": {"type": "object", "additionalProperties": {"$ref": "#/$defs/target"}},
            "branches": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/rule"}},
            "state": {
                "type": "object",
                "properties": {
                    key: {"type": "string", "minLength": 1} for key in sorted(model.STATE_KEYS)
                },
                "additionalProperties": False,
            },
            "safety": {
                "type": "object",
                "description": "How much one prune may delete in a target before --force",
                "properties": {
                    "max_deletes": {"type": "integer", "minimum": 0},
                    "max_delete_share": {"type": "number", "minimum": 0, "maximum": 1},
                },
                "additionalProperties": False,
            },
        },
        "required": ["version", "neon", "targets", "branches"],
        "additionalProperties": False,
        "$defs": {
            "neon": _neon(),
            "target": _target(options),
            "rule": _rule(),
            "item": _item(options),
            "var": _var(),
        },
    }


def text() -> str:
    return json.dumps(generate(), indent=2) + "\n"


if __name__ == "__main__":
    SHIPPED.write_text(text(), encoding="utf-8")
