"""One var of a sync item: `pooled`, `direct`, a template, or a mapping of options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from neon_sync.config.rules import check_template
from neon_sync.config.source import LDict, check_keys
from neon_sync.errors import ConfigError
from neon_sync.neon.formats import (
    CHANNEL_BINDING_CHOICES,
    ENDPOINT_TYPES,
    FORMATS,
    URL_KINDS,
    EndpointType,
    Format,
    UrlKind,
)

VAR_KEYS = frozenset(
    {
        "url",
        "value",
        "database",
        "role",
        "endpoint",
        "format",
        "params",
        "secret",
        "sensitive",
        "sslmode",
        "channel_binding",
        "sni_workaround",
        "bare",
        "credentials",
    }
)

# Keys with a fixed set of values (the loader checks them; config/schema.py publishes them).
VAR_CHOICES: dict[str, tuple[str, ...]] = {
    "url": URL_KINDS,
    "endpoint": ENDPOINT_TYPES,
    "format": FORMATS,
    "channel_binding": CHANNEL_BINDING_CHOICES,
}


@dataclass(frozen=True)
class Var:
    name: str
    url: UrlKind | None  # a whole URI; else `value` is a template
    value: str | None
    database: str | None = None  # None: neon.database
    role: str | None = None
    endpoint: EndpointType = "read_write"
    format: Format = "uri"
    params: tuple[tuple[str, str], ...] = ()
    secret: bool = True
    sensitive: bool | None = None
    sslmode: str | None = None
    channel_binding: str | None = None  # "omit" drops it
    sni_workaround: bool | None = None
    bare: bool = False
    credentials: bool = True
    where: str = ""


def parse_var(name: str, spec: Any, where: str, allowed: frozenset[str] | set[str]) -> Var:
    if isinstance(spec, str):
        spec = {"url": spec} if spec in ("pooled", "direct") else {"value": spec}
        raw: Mapping[str, Any] = spec
        at = {k: where for k in spec}
    elif isinstance(spec, LDict):
        check_keys(spec, VAR_KEYS, f"var {name}")
        raw, at = spec, {k: spec.at(k) for k in spec}
    elif isinstance(spec, dict):  # from a preset
        raw, at = spec, {k: where for k in spec}
    else:
        raise ConfigError(
            f"var {name}: expected pooled, direct, a template string or a mapping", where
        )
    if ("url" in raw) == ("value" in raw):
        raise ConfigError(
            f"var {name}: give exactly one of `url:` (pooled|direct) or `value:`", where
        )
    for key, options in VAR_CHOICES.items():
        if key in raw and raw[key] not in options:
            raise ConfigError(f"var {name}: {key} must be one of {', '.join(options)}", at[key])
    for key in ("secret", "sensitive", "sni_workaround", "bare", "credentials"):
        if key in raw and not isinstance(raw[key], bool):
            raise ConfigError(f"var {name}: {key} must be true or false", at[key])
    for key in ("value", "database", "role", "sslmode"):
        if key in raw and not isinstance(raw[key], str):
            raise ConfigError(f"var {name}: {key} must be a string", at[key])
    if "value" in raw:
        check_template(raw["value"], allowed, at["value"])
    params = raw.get("params", {})
    if not isinstance(params, dict) or not all(isinstance(v, (str, int)) for v in params.values()):
        raise ConfigError(f"var {name}: params must map names to strings", at.get("params", where))
    return Var(
        name=name,
        url=raw.get("url"),
        value=raw.get("value"),
        database=raw.get("database"),
        role=raw.get("role"),
        endpoint=raw.get("endpoint", "read_write"),
        format=raw.get("format", "uri"),
        params=tuple((str(k), str(v)) for k, v in params.items()),
        secret=raw.get("secret", True),
        sensitive=raw.get("sensitive"),
        sslmode=raw.get("sslmode"),
        channel_binding=raw.get("channel_binding"),
        sni_workaround=raw.get("sni_workaround"),
        bare=raw.get("bare", False),
        credentials=raw.get("credentials", True),
        where=where,
    )
