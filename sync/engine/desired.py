"""Config + Neon facts -> the desired state: for each matched branch and sync item, the
(scope, key) -> value entries. Asks Neon only for what the matched rules need."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from neon_sync import providers
from neon_sync.config.model import Config, Neon, SyncItem
from neon_sync.config.rules import render
from neon_sync.config.vars import Var
from neon_sync.engine import confine
from neon_sync.engine.facts import Facts, branch_problem, gather
from neon_sync.engine.failures import Failure
from neon_sync.engine.plan import Entry
from neon_sync.errors import ConfigError, ProviderError
from neon_sync.neon.client import Branch, Endpoint, NeonClient
from neon_sync.neon.connstr import ConnectionInfo, UrlOptions, build, pooled_host
from neon_sync.neon.formats import OMIT
from neon_sync.providers.base import Context, Desired, Provider, Scope
from neon_sync.secret import MASK, Secret


@dataclass
class Resolution:
    """The outcome of resolving: entries, the scopes they live in, per-target errors (a
    provider that is not installed) and per-key failures (a branch with no compute); neither
    stops the run."""

    entries: list[Entry] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # target -> message
    failures: list[Failure] = field(default_factory=list)  # one branch's or key's problems
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
        for rule, captures in config.matching(branch.name, branch.default):
            out.matched.setdefault(branch.name, []).append(rule.where)
            names = {**captures, "branch": branch.name, "branch_id": branch.id}
            for item in rule.items:
                wants += _wants_of(config, made, out, branch, item, names)
    if not wants:
        return out
    if early is not None:
        early([want.scope for want in wants if want.item.target not in out.errors])
    endpoints = endpoints_by_branch(neon.endpoints())
    facts = gather(neon, endpoints, {_pair(config, w) for w in wants if _endpoint(endpoints, w)})
    seen: dict[tuple[str, str, str], tuple[Desired, str]] = {}
    for want in wants:
        desired = _desired(config, facts, want, out)
        if desired is None:
            continue
        provider = made.get(config.targets[want.item.target].provider)
        # As the service holds it: GitHub's DATABASE_URL for a config's database_url.
        desired = replace(desired, key=provider.canonical_key(desired.key))
        if not _fits(provider, want, desired, out):
            continue
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


def _wants_of(
    config: Config,
    made: Providers,
    out: Resolution,
    branch: Branch,
    item: SyncItem,
    names: Mapping[str, str],
) -> list[_Want]:
    """The keys one sync item wants for one branch; a branch whose name cannot be used, or
    whose templated options leave their folder, fails only its own keys."""
    target = config.targets[item.target]
    if item.target in out.errors:
        return []
    trouble = branch_problem(branch)
    try:
        provider = made.get(target.provider)
        options = expand_options(item.options, names)
        trouble = trouble or confine.problem(item.options, options, config.base_dir)
        if trouble is None:
            scope = provider.scope(item.target, options)
    except ConfigError as exc:
        raise ConfigError(str(exc), None if exc.where else item.where) from None
    except ProviderError as exc:
        out.errors[item.target] = str(exc)
        return []
    if trouble is not None:
        message = f"{trouble}; nothing was written for it (rule at {item.where})"
        out.failures += [Failure(item.target, branch.name, v.name, message) for v in item.vars]
        return []
    return [_Want(branch, item, scope, var, names) for var in item.vars]


def _pair(config: Config, want: _Want) -> tuple[str, str]:
    return (want.branch.id, want.var.role or config.neon.role)


def _desired(config: Config, facts: Facts, want: _Want, out: Resolution) -> Desired | None:
    """The value `want` asks for, or None after noting why the branch cannot give it."""
    endpoint = facts.endpoint(want.branch, want.var.endpoint)
    role = want.var.role or config.neon.role
    password = facts.password(want.branch.id, role) if isinstance(endpoint, Endpoint) else ""
    if isinstance(endpoint, str) or isinstance(password, str):
        why = endpoint if isinstance(endpoint, str) else f"{password}"
        if isinstance(endpoint, str):
            why += f", or change the rule at {want.item.where}"
        out.failures.append(Failure(want.item.target, want.branch.name, want.var.name, why))
        return None
    info = ConnectionInfo(
        host=endpoint.host,
        endpoint_id=endpoint.id,
        role=role,
        password=password,
        database=want.var.database or config.neon.database,
    )
    value = var_value(config.neon, want.var, info, want.captures)
    return Desired(want.var.name, value, want.var.secret, want.branch.name, want.var.sensitive)


def _fits(provider: Provider, want: _Want, desired: Desired, out: Resolution) -> bool:
    """A key name the target refuses is a config error; a value from Neon it cannot hold
    (told apart by trying a plain value first) fails only that key."""
    probe = replace(desired, value=Secret("x", masked="x"))
    try:
        provider.check_key(want.scope, probe)
    except ConfigError as exc:
        raise ConfigError(str(exc), None if exc.where else want.var.where) from None
    try:
        provider.check_key(want.scope, desired)
    except ConfigError as exc:
        failure = Failure(want.scope.target, want.branch.name, desired.key, str(exc))
        out.failures.append(failure)
        return False
    return True


def endpoints_by_branch(endpoints: Sequence[Endpoint]) -> dict[tuple[str, str], Endpoint]:
    """(branch id, endpoint type) -> the branch's endpoint of that type (lowest id first)."""
    out: dict[tuple[str, str], Endpoint] = {}
    for endpoint in sorted(endpoints, key=lambda e: e.id):
        out.setdefault((endpoint.branch_id, endpoint.type), endpoint)
    return out


def _endpoint(endpoints: Mapping[tuple[str, str], Endpoint], want: _Want) -> Endpoint | None:
    # Only pairs with an endpoint get their password revealed: no compute, nothing to write.
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
