"""Vercel project environment variables, per environment and per preview Git branch.

Target options: project (name or prj_ id), team (else VERCEL_TEAM_ID / VERCEL_ORG_ID),
environment (production | preview | development, or a list), git_branch (preview only),
sensitive, redeploy, type. Token VERCEL_TOKEN; API base VERCEL_API_URL.

Every variable written carries a comment naming the Neon branch it came from, so `--prune`
finds a deleted branch's variables without local state. What was done beyond plain writes
(splitting a multi-environment variable, redeploying) is logged on the `neon_sync.vercel`
logger and kept for `take_notes()`.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from neon_sync.errors import ApiError, ProviderError
from neon_sync.providers.base import (
    BaseProvider,
    Context,
    Current,
    Desired,
    Markers,
    Options,
    Scope,
    ScopesError,
    Write,
)
from neon_sync.providers.vercel import batch, layout
from neon_sync.providers.vercel.api import SETTINGS, Env, VercelApi
from neon_sync.providers.vercel.options import OPTIONS, Spec, check_key, parse
from neon_sync.secret import scrub

__all__ = ["OPTIONS", "VercelProvider", "create"]
log = logging.getLogger("neon_sync.vercel")


def create(context: Context) -> VercelProvider:
    return VercelProvider(context)


class VercelProvider(BaseProvider):
    name = "vercel"

    def __init__(self, context: Context) -> None:
        super().__init__()
        self._context = context
        self._api: VercelApi | None = None  # made on first use: `validate` needs no token
        self._envs: dict[tuple[str | None, str], list[Env]] = {}  # last listing per project
        self._locks: dict[tuple[str | None, str], threading.Lock] = defaultdict(threading.Lock)
        self._guard = threading.Lock()

    @property
    def api(self) -> VercelApi:
        with self._guard:
            if self._api is None:
                self._api = VercelApi(
                    self._context.env, self._context.transport, self._context.sleep
                )
            return self._api

    def check_settings(self) -> None:
        SETTINGS.check(self._context.env)  # VERCEL_TOKEN and VERCEL_API_URL, before any request

    def scope(self, target: str, options: Options) -> Scope:
        spec = parse(options, self._context.env, self._context.neon_project)
        return Scope(target, spec.id, spec.options())

    def check_key(self, scope: Scope, desired: Desired) -> None:
        check_key(self._spec(scope), desired)

    def read(self, scopes: Sequence[Scope]) -> Mapping[Scope, Mapping[str, Current]]:
        out: dict[Scope, Mapping[str, Current]] = {scope: {} for scope in scopes}
        groups: dict[tuple[str | None, str], list[Scope]] = defaultdict(list)
        for scope in scopes:
            groups[self._spec(scope).project_key].append(scope)
        for project_key, group in groups.items():
            specs = [self._spec(scope) for scope in group]
            envs = self.api.list_envs(specs[0])  # one call serves every scope of the project
            with self._lock(project_key):
                self._envs[project_key] = envs
            for scope, spec in zip(group, specs, strict=True):
                out[scope] = layout.current(envs, spec)
            strays = layout.stray(envs, specs)
            for targets, branch in sorted(strays, key=lambda k: (k[0], k[1] or "")):
                found = strays[(targets, branch)]
                options: dict[str, Any] = {
                    "project": specs[0].project,
                    "environment": list(targets),
                }
                if specs[0].team:
                    options["team"] = specs[0].team
                if branch:
                    options["git_branch"] = branch
                extra = self.scope(group[0].target, options)
                out[extra] = layout.current(found, self._spec(extra))
        return out

    def apply(self, scope: Scope, writes: Sequence[Write]) -> Mapping[str, str | None]:
        try:
            return self.apply_scopes({scope: writes}).get(scope, {})
        except ScopesError as exc:
            raise ProviderError(str(exc), exc.done_by_scope.get(scope)) from None

    def apply_scopes(self, writes: Mapping[Scope, Sequence[Write]]) -> Mapping[Scope, Markers]:
        """Every scope's writes to one project in one batched upsert (plus one batch delete
        and any target-narrowing edits), however many environments and Git branches."""
        done: dict[Scope, dict[str, str | None]] = {scope: {} for scope in writes}
        projects: dict[tuple[str | None, str], list[tuple[Scope, Spec]]] = defaultdict(list)
        for scope in writes:
            spec = self._spec(scope)
            projects[spec.project_key].append((scope, spec))
        failures: list[str] = []
        for project_key, scoped in sorted(projects.items(), key=lambda kv: str(kv[0])):
            with self._lock(project_key):
                try:
                    self._apply_project(project_key, scoped, writes, done)
                except ProviderError as exc:
                    failures.append(str(exc))
                except ApiError as exc:
                    failures.append(f"{scoped[0][1].project_label}: {exc}")
        if failures:
            raise ScopesError("; ".join(failures), done)
        return done

    def close(self) -> None:
        if self._api is not None:
            self._api.close()

    # -- apply ---------------------------------------------------------------------------

    def _apply_project(
        self,
        project_key: tuple[str | None, str],
        scoped: Sequence[tuple[Scope, Spec]],
        writes: Mapping[Scope, Sequence[Write]],
        done: dict[Scope, dict[str, str | None]],
    ) -> None:
        first = scoped[0][1]
        envs = self._envs.get(project_key)
        if envs is None:
            envs = self._envs[project_key] = self.api.list_envs(first)
        todo = batch.plan(envs, [(spec, writes[scope]) for scope, spec in scoped])
        by_spec = {spec: scope for scope, spec in scoped}
        for note in todo.notes:
            self._note(note)
        # Narrow and delete first: a create that still overlaps would be an ENV_CONFLICT.
        for env, left in todo.edits.values():
            changed = self.api.edit(first, env["id"], env["key"], {"target": left})
            envs[envs.index(env)] = changed
        if todo.deletes:
            ids = list(todo.deletes)
            self.api.delete(first, ids, [env["key"] for env in todo.deletes.values()])
            envs[:] = [env for env in envs if env["id"] not in todo.deletes]
        for spec, key in todo.deleted:
            done[by_spec[spec]][key] = None
        if todo.items:
            created, failed = self.api.upsert(first, [item for _spec, item in todo.items])
            specs = list(by_spec)
            for env in created:
                self._remember(envs, env)
                owner = batch.owner_spec(env, specs)
                if owner is not None:
                    done[by_spec[owner]][env["key"]] = str(env.get("updatedAt"))
            if failed:
                raise ProviderError(f"{first.project_label}: {_failures(failed)}")
        # A deployment learns new values only when redeployed; values merely deleted (a
        # closed pull request's preview) are no reason to build it again.
        for scope, spec in scoped:
            written = [w for w in writes[scope] if w.action != "delete" and w.key in done[scope]]
            if written and spec.redeploy:
                try:
                    self._redeploy(spec)
                except ApiError as exc:
                    raise ProviderError(f"{spec.label}: variables written, but {exc}") from None

    def _redeploy(self, spec: Spec) -> None:
        for target in spec.targets:
            if target == "development":
                continue  # development values are pulled by `vercel env pull`, not deployed
            result = self.api.redeploy_latest(spec, target)
            if result is None:
                self._note(f"no {target} deployment of {spec.label} to redeploy yet")
            else:
                self._note(f"redeployed {target} of {spec.label}: {result[0]} -> {result[1]}")

    # -- helpers -------------------------------------------------------------------------

    def _spec(self, scope: Scope) -> Spec:
        return parse(scope.options, self._context.env, self._context.neon_project)

    def _lock(self, project_key: tuple[str | None, str]) -> threading.Lock:
        with self._guard:
            return self._locks[project_key]

    def _note(self, text: str) -> None:
        text = scrub(text)
        self.note(text)
        log.warning("%s", text)

    @staticmethod
    def _remember(envs: list[Env], env: Env) -> None:
        for index, known in enumerate(envs):
            if known.get("id") == env.get("id"):
                envs[index] = env
                return
        envs.append(env)


def _failures(failed: Sequence[Mapping[str, Any]]) -> str:
    texts = []
    for item in failed:
        error = item.get("error") or {}
        where = "+".join(error.get("target") or [])
        branch = f"@{error['gitBranch']}" if error.get("gitBranch") else ""
        texts.append(
            f"{error.get('key')} ({where}{branch}): {error.get('message')} ({error.get('code')})"
        )
    return scrub("Vercel refused " + "; ".join(texts))
