"""YAML that remembers where each value came from, so config errors can say file:line:col."""

from __future__ import annotations

import difflib
import os
import re
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


_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand(text: str, env: dict[str, str] | os._Environ[str], where: str) -> str:
    """${VAR} and ${VAR:-default} from the environment; a missing VAR is an error naming it."""

    def repl(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in env and (env[name] or default is None):
            return env[name]
        if default is not None:
            return default
        raise ConfigError(
            f"environment variable {name} is not set; export it, put it in a .env file beside "
            f"the config, or write ${{{name}:-default}}",
            where,
        )

    return _VAR.sub(repl, text)


def load(path: Path, env: dict[str, str] | os._Environ[str]) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file: {exc.strerror}", str(path)) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"invalid YAML: {exc.problem}", where) from None
    if node is None:
        raise ConfigError(
            "the config file is empty; start from the example neon-sync.yaml", str(path)
        )
    return _convert(node, str(path), env)


def _where(file: str, node: yaml.Node) -> str:
    return f"{file}:{node.start_mark.line + 1}:{node.start_mark.column + 1}"


def _convert(node: yaml.Node, file: str, env: dict[str, str] | os._Environ[str]) -> Any:
    where = _where(file, node)
    if isinstance(node, yaml.MappingNode):
        out = LDict()
        out.where, out.item_where, out.key_where = where, {}, {}
        for key_node, value_node in node.value:
            key = _convert(key_node, file, env)
            if not isinstance(key, str):
                raise ConfigError("keys must be strings", _where(file, key_node))
            if key in out:
                raise ConfigError(f"duplicate key {key!r}", _where(file, key_node))
            out[key] = _convert(value_node, file, env)
            out.item_where[key] = _where(file, value_node)
            out.key_where[key] = _where(file, key_node)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = LList()
        items.where, items.item_where = where, {}
        for index, child in enumerate(node.value):
            items.append(_convert(child, file, env))
            items.item_where[index] = _where(file, child)
        return items
    assert isinstance(node, yaml.ScalarNode)
    value = yaml.SafeLoader(b"").construct_object(node)
    if isinstance(value, str):
        return expand(value, env, where)
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
