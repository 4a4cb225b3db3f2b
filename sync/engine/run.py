"""One run of neon-sync: the config, the Neon client, the providers and the state store,
opened together and closed together. The CLI and `demo` use it; so do the tests."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from neon_sync.config import model as config_mod
from neon_sync.config.model import Config, Neon
from neon_sync.engine.apply import Outcome, Progress, apply_plan, make_plan
from neon_sync.engine.budget import over_budget
from neon_sync.engine.desired import Providers
from neon_sync.engine.interrupt import Interrupt
from neon_sync.engine.plan import Plan
from neon_sync.engine.state import FileStore, State, config_identity, state_secret
from neon_sync.errors import ConfigError, ProviderError
from neon_sync.neon.client import NeonClient
from neon_sync.providers.base import Context, StateStore


@dataclass
class Run:
    config: Config
    neon: NeonClient
    providers: Providers
    store: StateStore
    state: State
    env: Mapping[str, str]
    interrupt: Interrupt | None = None  # set by the CLI: signals stop writes, not state saves

    def plan(
        self,
        branches: Sequence[str] = (),
        prune: bool = False,
        retiring: frozenset[str] = frozenset(),
        force: bool = False,
    ) -> Plan:
        check_settings(self.config, self.providers)
        plan = make_plan(
            self.config,
            self.neon,
            self.providers,
            self.state,
            branches=branches,
            prune=prune,
            retiring=retiring,
            force=force,
        )
        # Said before any write, so sync leaves such a target alone instead of failing in it.
        plan.errors.update(over_budget(plan.changes, self.config, self.providers))
        return plan

    def sync(
        self,
        branches: Sequence[str] = (),
        prune: bool = False,
        retiring: frozenset[str] = frozenset(),
        progress: Progress | None = None,
        force: bool = False,
    ) -> Outcome:
        """Plan, then apply; save the state only if it changed (a no-op run writes nothing).
        `retiring` branches count as deleted: with prune, what was written for them goes."""
        plan = self.plan(branches, prune, retiring, force)
        with self.interrupt.writing() if self.interrupt else nullcontext(None) as stop:
            outcome = apply_plan(plan, self.config, self.providers, self.state, progress, stop)
            if self.state.changed:
                self.save_state()
        return outcome

    def save_state(self) -> None:
        """This run's edits onto the store as it is now (another run may have saved since)."""
        secret, owner = state_secret(self.env), self.state.owner

        def merge(latest: dict[str, Any] | None) -> dict[str, Any]:
            self.state = self.state.rebase(State.from_document(secret, latest, owner))
            return self.state.document()

        self.store.update(merge)
        self.state.saved()


def neon_client(
    settings: Neon,
    env: Mapping[str, str],
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] | None = None,
) -> NeonClient:
    """A client for the project in `settings` (whose api_host already honours NEON_API_HOST)."""
    kwargs: dict[str, Any] = {"transport": transport}
    if sleep is not None:
        kwargs["sleep"] = sleep
    return NeonClient(
        env.get("NEON_API_KEY", ""), settings.project_id, api_host=settings.api_host, **kwargs
    )


def choose_store(config: Config, context: Context, made: Providers) -> StateStore:
    """`state: {target: NAME}` keeps the state with that target; inside GitHub Actions the
    first GitHub target is used by default, since the runner's files are gone after the job."""
    name = config.state_target
    if name is None and context.env.get("GITHUB_ACTIONS") == "true":
        name = next((t.name for t in config.targets.values() if t.provider == "github"), None)
    if name is None:
        return FileStore(config.state_path)
    target = config.targets[name]
    try:
        return made.get(target.provider).state_store(target.options)
    except ConfigError as exc:
        raise ConfigError(f"state target {name!r}: {exc}") from None


def read_config(found: Path, env: Mapping[str, str] | None) -> tuple[Config, Mapping[str, str]]:
    """Load the config file `found`, and the environment it expands from: `env`, or when
    that is None the process environment after the .env beside the config."""
    if env is None:
        config_mod.load_dotenv_beside(found)
        env = dict(os.environ)
    return config_mod.load(found, env), env


def check_settings(config: Config, made: Providers) -> None:
    """Tokens and API URLs of each provider the rules use (hook `check_settings`): a missing
    or malformed one is a config error, exit 2, before any request is made."""
    used = {item.target for rule in config.rules for item in rule.items}
    used |= {config.state_target} if config.state_target else set()
    for name in sorted({config.targets[target].provider for target in used}):
        try:
            provider = made.get(name)
        except ProviderError:
            continue  # not installed here: the run reports it for its targets
        provider.check_settings()


@contextmanager
def open_run(
    config_path: str | None,
    env: Mapping[str, str] | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    sleep: Callable[[float], None] | None = None,
    cwd: Path | None = None,
) -> Iterator[Run]:
    """Load the config (and the .env beside it, into os.environ when env is None), connect."""
    found = config_mod.find(config_path, os.environ if env is None else env, cwd or Path.cwd())
    config, env = read_config(found, env)
    context = Context(
        env=env,
        base_dir=config.base_dir,
        transport=transport,
        sleep=sleep,
        neon_project=config.neon.project_id,
    )
    made = Providers(context)
    store = choose_store(config, context, made)
    with neon_client(config.neon, env, transport, sleep) as neon:
        try:
            owner = (config.neon.project_id, config_identity(config.path, config.state_path))
            state = State.from_document(state_secret(env), store.load(), owner)
            yield Run(config, neon, made, store, state, env)
        finally:
            made.close()
            store.close()
