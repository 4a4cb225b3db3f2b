"""YAML that remembers where each value came from, so config errors can say file:line:col.

The input is bounded before and while it is parsed: a config comes from a checkout anyone can
push to, so an alias bomb, a 5,000-deep nesting, control characters or a custom tag end as
one-line errors (exit 2) in milliseconds. No error quotes a config line: one could hold a secret.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from neon_sync.errors import ConfigError


class Located:
    """Mixin for containers: `where` of the container itself and of each item."""

    where: str
    item_where: dict[Any, str]

    def at(self, key: Any) -> str:
        return self.item_where.get(key, self.where)


class LDict(dict[str, Any], Located):
    key_where: dict[str, str]

    def key_at(self, key: str) -> str:
        return self.key_where.get(key, self.where)


class LList(list[Any], Located):
    pass


MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64  # a neon-sync config nests about 8 deep
MAX_ALIASES = 100
MAX_VALUES = 20_000  # scalars, mappings and lists after aliases are expanded
# Tab, LF and CR are YAML whitespace; every other C0 control, DEL and C1 controls are refused.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Tags that plain YAML resolves by itself; any other (!!binary, !!python/..., !custom) is refused.
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "map", "seq", "timestamp")
)

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand(text: str, env: Mapping[str, str], where: str, *, offline: bool = False) -> str:
    """${VAR} and ${VAR:-default} from the environment; a missing VAR is an error naming it
    (offline: it becomes the placeholder `$VAR`, without braces so that no template reads it)."""

    def repl(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env and (env[name] or default is None):
            return env[name]
        if default is not None:
            return default
        if offline:
            return f"${name}"
        raise ConfigError(
            f"environment variable {name} is not set; export it, put it in a .env file beside "
            f"the config, or write ${{{name}:-default}}",
            where,
        )

    return _VAR.sub(repl, text)


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader's composer with limits on nesting depth and alias count."""

    def __init__(self, stream: str, file: str) -> None:
        super().__init__(stream)
        self.file = file
        self.depth = 0
        self.aliases = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise ConfigError(
                    f"more than {MAX_ALIASES} YAML aliases (*name); write the values out",
                    _mark(self.file, event.start_mark),
                )
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise ConfigError(
                    f"nested more than {MAX_DEPTH} levels deep; a neon-sync config needs far fewer",
                    _mark(self.file, event.start_mark),
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _mark(file: str, mark: Any) -> str:
    return f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else file


def read_text(path: Path) -> str:
    """The config's text: at most MAX_BYTES of UTF-8 without control characters."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror}", str(path)) from None
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"the config file is larger than {MAX_BYTES // 1024} KiB", str(path))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(
            "the config file is not valid UTF-8; save it as UTF-8", f"{path}:{line}:{column}"
        ) from None
    text = text.removeprefix("\ufeff")
    bad = _CONTROL.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        raise ConfigError(
            f"control character U+{ord(bad.group()):04X} in the config; remove it",
            f"{path}:{line}:{column}",
        )
    return text


def load(path: Path, env: Mapping[str, str], *, offline: bool = False) -> Any:
    """The config's YAML as LDict/LList/scalars with ${VAR} expanded from `env`; `offline`
    leaves an unset ${VAR} in place instead of failing (validate --offline)."""
    text = read_text(path)
    loader = _BoundedLoader(text, str(path))
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        # `problem` only: str(exc) would quote the line, which may hold a secret.
        raise ConfigError(
            f"invalid YAML: {exc.problem}", _mark(str(path), exc.problem_mark)
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML ({type(exc).__name__})", str(path)) from None
    finally:
        loader.dispose()
    if node is None:
        raise ConfigError(
            "the config file is empty; start from the example neon-sync.yaml", str(path)
        )
    return _Converter(str(path), env, offline).convert(node)


def _where(file: str, node: yaml.Node) -> str:
    return f"{file}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"


class _Converter:
    def __init__(self, file: str, env: Mapping[str, str], offline: bool) -> None:
        self.file = file
        self.env = env
        self.offline = offline
        self.count = 0
        self.constructor = yaml.SafeLoader("")  # builds scalars; one for the whole file

    def convert(self, node: yaml.Node) -> Any:
        where = _where(self.file, node)
        # Aliases make the node graph share children: counting every visit bounds the
        # expanded document, which is what an alias bomb inflates.
        self.count += 1
        if self.count > MAX_VALUES:
            raise ConfigError(
                f"the config expands to more than {MAX_VALUES} values (YAML aliases?)", where
            )
        if node.tag not in _PLAIN_TAGS:
            raise ConfigError(
                f"YAML tag {node.tag.replace('tag:yaml.org,2002:', '!!')} is not allowed here; "
                "remove it",
                where,
            )
        if isinstance(node, yaml.MappingNode):
            out = LDict()
            out.where, out.item_where, out.key_where = where, {}, {}
            for key_node, value_node in node.value:
                key = self.convert(key_node)
                if not isinstance(key, str):
                    raise ConfigError("keys must be strings", _where(self.file, key_node))
                if key in out:
                    raise ConfigError(f"duplicate key {key!r}", _where(self.file, key_node))
                out[key] = self.convert(value_node)
                out.item_where[key] = _where(self.file, value_node)
                out.key_where[key] = _where(self.file, key_node)
            return out
        if isinstance(node, yaml.SequenceNode):
            items = LList()
            items.where, items.item_where = where, {}
            for index, child in enumerate(node.value):
                items.append(self.convert(child))
                items.item_where[index] = _where(self.file, child)
            return items
        assert isinstance(node, yaml.ScalarNode)
        try:
            value = self.constructor.construct_object(node)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError):
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            raise ConfigError(f"the value does not fit its tag {tag}", where) from None
        if isinstance(value, str):
            return expand(value, self.env, where, offline=self.offline)
        return value


def check_keys(mapping: LDict, allowed: frozenset[str] | set[str], what: str) -> None:
    """Every key of `mapping` must be allowed; else an error at the key, with a suggestion."""
    for key in mapping:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = (
                f"; did you mean {close[0]!r}?"
                if close
                else f"; allowed: {', '.join(sorted(allowed))}"
            )
            raise ConfigError(f"unknown key {key!r} in {what}{hint}", mapping.key_at(key))
