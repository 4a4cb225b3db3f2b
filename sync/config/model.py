"""neon-sync.yaml -> frozen dataclasses. Every error names file:line:col and what to do."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neon_sync import providers
from neon_sync.choices import check_choice
from neon_sync.config import source as yamlsrc
from neon_sync.config.presets import PRESETS
from neon_sync.config.rules import BRANCH_FIELDS, VALUE_FIELDS, Matcher, check_template
from neon_sync.config.safety import Safety, parse_safety
from neon_sync.config.source import LDict, Located, check_keys
from neon_sync.config.vars import Var, parse_var
from neon_sync.errors import ConfigError, ProviderError
from neon_sync.neon import DEFAULT_API_HOST, api_host
from neon_sync.neon.formats import (
    CHANNEL_BINDING_CHOICES,
    DEFAULT_CHANNEL_BINDING,
    DEFAULT_SSLMODE,
    SSLMODES,
)

CONFIG_NAME = "neon-sync.yaml"
CONFIG_NAMES = (CONFIG_NAME, "neon-sync.yml")
# The keys each part of the file accepts: the loader checks them, config/schema.py publishes them.
TOP_KEYS = frozenset({"version", "neon", "targets", "branches", "state", "safety"})
RULE_KEYS = frozenset({"match", "default", "sync"})
STATE_KEYS = frozenset({"target", "path"})
ITEM_KEYS = frozenset({"target", "vars", "preset", "prefix", "rename"})
NEON_KEYS = frozenset(
    {"project_id", "database", "role", "api_host", "sslmode", "channel_binding", "sni_workaround"}
)


@dataclass(frozen=True)
class SyncItem:
    target: str
    options: Mapping[str, Any]  # the target's options with this item's overrides (templates)
    vars: tuple[Var, ...]
    where: str


@dataclass(frozen=True)
class Rule:
    matcher: Matcher
    items: tuple[SyncItem, ...]
    where: str


@dataclass(frozen=True)
class Target:
    name: str
    provider: str
    options: Mapping[str, Any]
    where: str


@dataclass(frozen=True)
class Neon:
    project_id: str
    api_host: str = DEFAULT_API_HOST
    database: str = "neondb"
    role: str = "neondb_owner"
    sslmode: str = DEFAULT_SSLMODE
    channel_binding: str = DEFAULT_CHANNEL_BINDING
    sni_workaround: bool = False


@dataclass(frozen=True)
class Config:
    path: Path
    neon: Neon
    targets: Mapping[str, Target]
    rules: tuple[Rule, ...]
    state_target: str | None = None  # keep state with this target (e.g. a GitHub repo variable)
    state_path: Path = field(default=Path(".neon-sync/state.json"))
    safety: Safety = field(default_factory=Safety)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def matching(self, name: str, default: bool) -> Iterator[tuple[Rule, dict[str, str]]]:
        """The rules that match a branch, each with its captures."""
        for rule in self.rules:
            captures = rule.matcher.match(name, default)
            if captures is not None:
                yield rule, captures


def find(explicit: str | None, env: Mapping[str, str], cwd: Path) -> Path:
    """--config, else $NEON_SYNC_CONFIG, else neon-sync.yaml here or in the nearest parent."""
    if explicit or env.get("NEON_SYNC_CONFIG"):
        path = Path(explicit or env["NEON_SYNC_CONFIG"])
        if not path.is_file():
            raise ConfigError(f"config file {path} not found")
        return path.resolve()
    for folder in (cwd, *cwd.parents):
        found = [folder / name for name in CONFIG_NAMES if (folder / name).is_file()]
        if len(found) > 1:
            raise ConfigError(
                f"both {' and '.join(CONFIG_NAMES)} are in {folder}; "
                "keep one, or pass --config FILE"
            )
        if found:
            return found[0].resolve()
    raise ConfigError(
        f"no {' or '.join(CONFIG_NAMES)} here or in any parent folder; pass --config FILE"
    )


def load_dotenv_beside(path: Path) -> None:
    """Tokens and NEON_PROJECT_ID may live in a .env beside the config; the environment wins."""
    dotenv_file = path.parent / ".env"
    if dotenv_file.is_file():
        from dotenv import load_dotenv

        load_dotenv(dotenv_file, override=False)


def load(path: Path, env: Mapping[str, str] | None = None, *, offline: bool = False) -> Config:
    """`offline`: an unset ${VAR} is a placeholder, not an error (validate --offline)."""
    env = dict(os.environ if env is None else env)
    doc = yamlsrc.load(path, env, offline=offline)
    top = _mapping(doc, str(path), "the config file")
    check_keys(top, TOP_KEYS, "top level")
    if top.get("version") != 1:
        raise ConfigError(
            "unsupported config version; this neon-sync reads `version: 1`", top.at("version")
        )
    neon = _neon(_mapping(top.get("neon"), top.at("neon"), "`neon:`", required=True), env)
    targets = _targets(_mapping(top.get("targets"), top.at("targets"), "`targets:`", True))
    rules = _rules(top.get("branches"), top.at("branches"), targets)
    state = _mapping(top.get("state", LDict()), top.at("state"), "`state:`")
    check_keys(state, STATE_KEYS, "state")
    state_target = state.get("target")
    if state_target is not None and state_target not in targets:
        raise ConfigError(
            f"state target {state_target!r} is not defined under targets", state.at("target")
        )
    state_path = Path(str(state.get("path", ".neon-sync/state.json")))
    safety = parse_safety(top.get("safety"), top.at("safety"))
    return Config(path, neon, targets, rules, state_target, path.parent / state_path, safety)


def _mapping(value: Any, where: str, what: str, required: bool = False) -> LDict:
    if value is None and not required:
        out = LDict()
        out.where, out.item_where, out.key_where = where, {}, {}
        return out
    if not isinstance(value, LDict):
        raise ConfigError(f"{what} must be a mapping (key: value)", where)
    return value


def _str(mapping: LDict, key: str, what: str) -> str:
    value = mapping.get(key)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{what}.{key} must be a non-empty string", mapping.at(key))
    return value


def _neon(raw: LDict, env: Mapping[str, str]) -> Neon:
    check_keys(raw, NEON_KEYS, "neon")
    for key in raw:
        if key != "sni_workaround":
            _str(raw, key, "neon")
    if "project_id" not in raw:
        raise ConfigError("neon.project_id is required (e.g. ${NEON_PROJECT_ID})", raw.where)
    values = {k: v for k, v in raw.items()}
    values["api_host"] = api_host(env, raw.get("api_host"))
    if not isinstance(raw.get("sni_workaround", False), bool):
        raise ConfigError("neon.sni_workaround must be true or false", raw.at("sni_workaround"))
    # Checked here too, so a typo points at its line rather than failing at the first string.
    for key, choices in (("sslmode", SSLMODES), ("channel_binding", CHANNEL_BINDING_CHOICES)):
        if key in raw:
            check_choice(raw[key], choices, f"neon.{key}", raw.at(key))
    return Neon(**values)


def _targets(raw: LDict) -> dict[str, Target]:
    targets = {}
    for name, body in raw.items():
        spec = _mapping(body, raw.at(name), f"target {name!r}", required=True)
        provider = _str(spec, "provider", f"targets.{name}")
        try:
            allowed = set(providers.module(provider).OPTIONS) | {"provider"}
        except ConfigError as exc:  # "provider: 'x' is not one of ..."
            raise ConfigError(f"targets.{name}.{exc}", spec.at("provider")) from None
        except ProviderError:
            allowed = set(spec)  # not installed here: the run fails this target, not the config
        check_keys(spec, allowed, f"targets.{name}")
        options = {k: v for k, v in spec.items() if k != "provider"}
        targets[name] = Target(name, provider, options, spec.where)
    return targets


def _rules(raw: Any, where: str, targets: Mapping[str, Target]) -> tuple[Rule, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(
            "`branches:` must be a list of rules (- match: NAME ... sync: [...])", where
        )
    rules = []
    assert isinstance(raw, Located)
    for index, body in enumerate(raw):
        rule = _mapping(body, raw.at(index), "a branch rule", required=True)
        check_keys(rule, RULE_KEYS, "a branch rule")
        if "match" in rule:
            _str(rule, "match", "branches[]")
        default = rule.get("default", False)
        if not isinstance(default, bool) or ("match" not in rule and not default):
            raise ConfigError("a rule needs `match: PATTERN` or `default: true`", rule.where)
        matcher = Matcher.parse(rule.get("match"), default, rule.at("match"))
        allowed = set(BRANCH_FIELDS) | set(matcher.captures)
        items = rule.get("sync")
        if not isinstance(items, list) or not items:
            raise ConfigError(
                "`sync:` must be a non-empty list of items (- target: NAME)", rule.at("sync")
            )
        assert isinstance(items, Located)
        parsed = tuple(
            _item(_mapping(item, items.at(i), "a sync item", True), targets, allowed)
            for i, item in enumerate(items)
        )
        rules.append(Rule(matcher, parsed, rule.where))
    return tuple(rules)


def _item(raw: LDict, targets: Mapping[str, Target], allowed: set[str]) -> SyncItem:
    name = _str(raw, "target", "sync item")
    if name not in targets:
        close = difflib.get_close_matches(name, sorted(targets), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else "; define it under targets"
        raise ConfigError(f"unknown target {name!r}{hint}", raw.at("target"))
    target = targets[name]
    provider_options = _provider_options(target)
    if provider_options is not None:  # else not installed here: the run fails this target
        check_keys(raw, ITEM_KEYS | provider_options, f"a sync item for {name!r}")
    options = {**target.options, **{k: v for k, v in raw.items() if k not in ITEM_KEYS}}
    for key, value in options.items():
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str):
                check_template(text, allowed, raw.at(key) if key in raw else target.where)
    prefix = raw.get("prefix", "")
    if not isinstance(prefix, str):
        raise ConfigError("prefix must be a string", raw.at("prefix"))
    specs: dict[str, tuple[Any, str]] = {}
    if "preset" in raw:
        preset = raw["preset"]
        if preset not in PRESETS:
            close = difflib.get_close_matches(str(preset), sorted(PRESETS), n=1)
            hint = (
                f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(PRESETS))}"
            )
            raise ConfigError(f"unknown preset {preset!r}; {hint}", raw.at("preset"))
        specs.update({k: (v, raw.at("preset")) for k, v in PRESETS[preset].items()})
        specs = _renamed(specs, raw)
    elif "rename" in raw:
        raise ConfigError("rename: renames a preset's variables; add `preset:`", raw.at("rename"))
    raw_vars = _mapping(raw.get("vars"), raw.at("vars"), "`vars:`")
    specs.update({k: (v, raw_vars.at(k)) for k, v in raw_vars.items()})
    if not specs:
        raise ConfigError("a sync item needs `vars:` or `preset:`", raw.where)
    value_allowed = VALUE_FIELDS | allowed
    vars_ = tuple(
        parse_var(prefix + key, spec, where, value_allowed) for key, (spec, where) in specs.items()
    )
    return SyncItem(name, options, vars_, raw.where)


def _renamed(specs: dict[str, tuple[Any, str]], raw: LDict) -> dict[str, tuple[Any, str]]:
    """`rename: {PRESET_NAME: NEW_NAME}`: a preset's variable under the name the app reads."""
    if "rename" not in raw:
        return specs
    renames = _mapping(raw.get("rename"), raw.at("rename"), "`rename:`")
    out = dict(specs)
    for old, new in renames.items():
        if old not in specs:
            raise ConfigError(
                f"rename: the preset sets no {old!r}; it sets {', '.join(specs)}",
                renames.key_at(old),
            )
        if not isinstance(new, str) or not new:
            raise ConfigError(f"rename: {old} needs a new name (a string)", renames.at(old))
        out[new] = out.pop(old)
    return out


def _provider_options(target: Target) -> set[str] | None:
    try:
        return set(providers.module(target.provider).OPTIONS)
    except ProviderError:
        return None
