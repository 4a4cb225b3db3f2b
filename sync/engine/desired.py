"""Config + Neon facts -> the desired state: for each matched branch and sync item, the
(scope, key) -> value entries. Asks Neon only for what the matched rules need."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from neon_sync import providers
from neon_sync.config.model import Config, Neon, SyncItem
from neon_sync.config.rules import render
from neon_sync.config.vars import Var
from neon_sync.engine.plan import Entry
from neon_sync.errors import ConfigError, ProviderError
from neon_sync.neon.client import Branch, Endpoint, NeonClient
from neon_sync.neon.connstr import ConnectionInfo, UrlOptions, build, pooled_host
from neon_sync.neon.formats import OMIT
from neon_sync.providers.base import Context, Desired, Provider, Scope
from neon_sync.secret import MASK, Secret


@dataclass
class Resolution:
    """The outcome of resolving: entries, the scopes they live in, and per-target failures
    (a provider that is not installed, a branch with no compute) that do not stop the run."""

    entries: list[Entry] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # target -> message
    matched: dict[str, list[str]] = field(default_factory=dict)  # branch -> rule locations


@dataclass(frozen=True)
class _Want:
    branch: Branch
    item: SyncItem
    scope: Scope
    var: Var
    captures: Mapping[str, str]


class Providers:
    """One provider instance per provider name for the run, created on first use."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self._made: dict[str, Provider] = {}

    def get(self, name: str) -> Provider:
        if name not in self._made:
            self._made[name] = providers.module(name).create(self.context)
        return self._made[name]

    def take_notes(self) -> list[str]:
        """What providers did beyond plain writes (a split variable, a redeploy) since the
        last call, for the user."""
        return [line for provider in self._made.values() for line in provider.take_notes()]

    def close(self) -> None:
        for provider in self._made.values():
            provider.close()


def expand_options(options: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    def one(value: Any) -> Any:
        if isinstance(value, str):
            return render(value, values)
        if isinstance(value, list):
            return [one(v) for v in value]
        return value

    return {key: one(value) for key, value in options.items()}


def resolve(
    config: Config,
    neon: NeonClient,
    branches: Sequence[Branch],
    made: Providers,
    early: Callable[[list[Scope]], None] | None = None,
) -> Resolution:
    """`early(scopes)` hears the scopes as soon as they are known, before any password."""
    out = Resolution()
    wants: list[_Want] = []
    for branch in branches:
        for rule in config.rules:
            captures = rule.matcher.match(branch.name, branch.default)
            if captures is None:
                continue
            out.matched.setdefault(branch.name, []).append(rule.where)
            names = {**captures, "branch": branch.name, "branch_id": branch.id}
            for item in rule.items:
                target = config.targets[item.target]
                if item.target in out.errors:
                    continue
                try:
                    provider = made.get(target.provider)
                    scope = provider.scope(item.target, expand_options(item.options, names))
                except ConfigError as exc:
                    raise ConfigError(str(exc), None if exc.where else item.where) from None
                except ProviderError as exc:
                    out.errors[item.target] = str(exc)
                    continue
                wants += [_Want(branch, item, scope, var, names) for var in item.vars]
    if not wants:
        return out
    if early is not None:
        early([want.scope for want in wants if want.item.target not in out.errors])
    endpoints = endpoints_by_branch(neon.endpoints())
    needed = {
        (w.branch.id, w.var.role or config.neon.role)
        for w in wants
        if _endpoint(endpoints, w) is not None
    }
    passwords = neon.passwords(sorted(needed))
    seen: dict[tuple[str, str, str], tuple[Desired, str]] = {}
    for want in wants:
        endpoint = _endpoint(endpoints, want)
        if endpoint is None:
            kind = "read replica" if want.var.endpoint == "read_only" else "read_write compute"
            out.errors.setdefault(
                want.item.target,
                f"branch {want.branch.name!r} has no {kind}; add one in Neon, "
                f"or change the rule at {want.item.where}",
            )
            continue
        role = want.var.role or config.neon.role
        info = ConnectionInfo(
            host=endpoint.host,
            endpoint_id=endpoint.id,
            role=role,
            password=passwords[(want.branch.id, role)],
            database=want.var.database or config.neon.database,
        )
        value = var_value(config.neon, want.var, info, want.captures)
        provider = made.get(config.targets[want.item.target].provider)
        desired = Desired(
            provider.canonical_key(want.var.name),
            value,
            want.var.secret,
            want.branch.name,
            want.var.sensitive,
        )
        try:
            provider.check_key(want.scope, desired)
        except ConfigError as exc:
            raise ConfigError(str(exc), None if exc.where else want.var.where) from None
        key = (want.scope.target, want.scope.id, desired.key)
        if key in seen:
            earlier, where = seen[key]
            if earlier.value != desired.value:
                raise ConfigError(
                    f"{desired.key} in {want.scope.target} ({want.scope.id}) gets different values "
                    f"from the rule at {where} and the rule at {want.var.where}; make one rule win",
                    want.var.where,
                )
            continue
        seen[key] = (desired, want.var.where)
        out.entries.append(Entry(want.scope, desired))
    return out


def endpoints_by_branch(endpoints: Sequence[Endpoint]) -> dict[tuple[str, str], Endpoint]:
    """(branch id, endpoint type) -> the branch's endpoint of that type (lowest id first)."""
    out: dict[tuple[str, str], Endpoint] = {}
    for endpoint in sorted(endpoints, key=lambda e: e.id):
        out.setdefault((endpoint.branch_id, endpoint.type), endpoint)
    return out


def _endpoint(endpoints: Mapping[tuple[str, str], Endpoint], want: _Want) -> Endpoint | None:
    return endpoints.get((want.branch.id, want.var.endpoint))


def url_options(
    neon: Neon, var: Var | None = None, *, pooled: bool, format_: str = "uri"
) -> UrlOptions:
    """How a string is written: the `neon:` settings, overridden by the var's own."""
    binding = (var.channel_binding if var else None) or neon.channel_binding
    sni = var.sni_workaround if var and var.sni_workaround is not None else neon.sni_workaround
    return UrlOptions(
        pooled=pooled,
        format=format_,  # type: ignore[arg-type]
        sslmode=(var.sslmode if var else None) or neon.sslmode,
        channel_binding=None if binding == OMIT else binding,
        sni_workaround=sni,
        params=dict(var.params) if var else {},
        bare=var.bare if var else False,
        credentials=var.credentials if var else True,
    )


def var_value(neon: Neon, var: Var, info: ConnectionInfo, captures: Mapping[str, str]) -> Secret:
    """The value of one var for one compute and role (`captures`: the rule's and the branch's
    names). `neon-sync env` and `run` use it without a config's rules."""
    if var.url is not None:
        return build(info, url_options(neon, var, pooled=var.url == "pooled", format_=var.format))
    pooled = build(info, url_options(neon, var, pooled=True))
    direct = build(info, url_options(neon, var, pooled=False))
    plain = {
        **captures,
        "host": info.host,
        "pooled_host": pooled_host(info.host),
        "port": str(info.port),
        "role": info.role,
        "database": info.database,
        "endpoint_id": info.endpoint_id,
        "project_id": neon.project_id,
        "sslmode": var.sslmode or neon.sslmode,
    }
    assert var.value is not None
    real = render(
        var.value,
        {
            **plain,
            "password": info.password.reveal(),
            "pooled_url": pooled.reveal(),
            "direct_url": direct.reveal(),
        },
    )
    shown = render(
        var.value,
        {**plain, "password": MASK, "pooled_url": pooled.masked, "direct_url": direct.masked},
    )
    return Secret(real, masked=shown)
