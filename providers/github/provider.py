"""GitHub Actions secrets (Desired.secret) and variables, at repository, environment or
organisation scope. Scope ids: `repo:OWNER/NAME`, `env:OWNER/NAME/ENVIRONMENT`, `org:ORG`.

Secrets are write-only: `read` gives their names and `updated_at`, and `apply` returns the
`updated_at` each written secret got, so the engine can tell a later edit by someone else.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from neon_sync import http
from neon_sync.errors import ApiError, ConfigError, ProviderError
from neon_sync.providers.base import (
    BaseProvider,
    Context,
    Current,
    Desired,
    Options,
    Scope,
    StateStore,
    Write,
)
from neon_sync.providers.github import budget
from neon_sync.providers.github.api import SETTINGS, Clock, GitHubApi, seal, status_in
from neon_sync.providers.github.names import (
    MAX_SECRETS,
    canonical,
    check_name,
    check_size,
    is_secret,
)
from neon_sync.providers.github.scope import OPTIONS, Holder, parse
from neon_sync.providers.github.state import VariableStateStore, variable_name
from neon_sync.secret import Secret

__all__ = ["OPTIONS", "GitHubProvider", "create"]
MAX_ORG_SECRETS = 1000
READ_CONCURRENCY = 4


class GitHubProvider(BaseProvider):
    name = "github"

    def __init__(self, context: Context, *, clock: Clock | None = None) -> None:
        super().__init__()
        self._env = context.env
        self.api = GitHubApi(
            context.env, context.transport, context.sleep or time.sleep, clock or time.time
        )
        self._public_keys: dict[str, tuple[str, str]] = {}  # scope id -> (key_id, key)
        self._env_exists: dict[str, bool] = {}  # env scope id -> found by read/apply
        self._secret_counts: dict[str, int] = {}
        self._created: set[str] = set()

    def created_scopes(self) -> frozenset[str]:
        """Scope ids of environments this run created (for the engine to record, for prune)."""
        return frozenset(self._created)

    def scope(self, target: str, options: Options) -> Scope:
        holder = parse(target, options, self._env)
        normal = holder.options()
        if "state_variable" in options:
            normal["state_variable"] = options["state_variable"]
        return Scope(target, holder.id, normal)

    def canonical_key(self, key: str) -> str:
        return canonical(key)

    def check_settings(self) -> None:
        SETTINGS.check(self._env)  # the token and GITHUB_API_URL, before any request (exit 2)

    def check_key(self, scope: Scope, desired: Desired) -> None:
        label = f"target {scope.target!r}"
        check_name(desired.key, label)
        if canonical(desired.key) == variable_name(scope.options):
            raise ConfigError(f"{label}: {desired.key} holds neon-sync's state; pick another name")
        check_size(desired.key, desired.value.reveal(), label)

    def read(self, scopes: Sequence[Scope]) -> Mapping[Scope, Mapping[str, Current]]:
        # GitHub has no bulk listing: two requests per scope, so a few scopes at a time (few
        # enough to stay clear of its secondary limit on concurrent requests).
        with ThreadPoolExecutor(max_workers=READ_CONCURRENCY) as pool:
            return dict(zip(scopes, pool.map(self._read, scopes), strict=True))

    def _read(self, scope: Scope) -> dict[str, Current]:
        holder = self._where(scope)
        ok = status_in(200, 404) if holder.kind == "env" else None
        secrets = self.api.pages(
            f"{holder.prefix}/secrets",
            "secrets",
            100,
            holder,
            f"list secrets of {holder.label}",
            ok=ok,
        )
        if secrets is None:  # GitHub's 404 for a missing environment, or a missing repository
            self.api.request(
                "GET",
                f"{holder.repo_path}/environments",
                holder,
                f"look up {holder.repository}",
                params={"per_page": 1},
            )
            self._env_exists[holder.id] = False
            return {}
        variables = (
            self.api.pages(
                f"{holder.prefix}/variables",
                "variables",
                30,
                holder,
                f"list variables of {holder.label}",
            )
            or []
        )
        self._env_exists[holder.id] = True
        self._secret_counts[holder.id] = len(secrets)
        hidden = variable_name(scope.options)
        found: dict[str, Current] = {}
        for item in variables:
            name = canonical(str(item["name"]))
            if name != hidden:
                found[name] = Current(name, str(item["value"]), False, item.get("updated_at"))
        for item in secrets:
            name = canonical(str(item["name"]))
            secret = Current(name, None, True, item.get("updated_at"))
            # GitHub keeps secrets and variables apart: one name can be both.
            found[name] = replace(found[name], twin=secret) if name in found else secret
        return found

    def apply(self, scope: Scope, writes: Sequence[Write]) -> Mapping[str, str | None]:
        holder = self._where(scope)
        done: dict[str, str | None] = {}
        try:
            self._check_room(holder, writes)
            if holder.kind == "env" and any(w.desired for w in writes):
                self._ensure_environment(holder)
            for write in writes:
                self._write(holder, write)
                done[write.key] = None
            return self._markers(holder, writes, done)
        except ApiError as exc:
            # Without markers the engine treats those secrets as changed and rewrites them.
            with contextlib.suppress(ApiError):
                done = self._markers(holder, writes, done)
            raise ProviderError(str(exc), done=done) from None

    def write_budget(self, writes: Mapping[Scope, Sequence[Write]]) -> str | None:
        """A line saying so when these writes exceed GitHub's hourly budget (providers.base)."""
        target = next(iter(writes)).target if writes else ""
        missing = lambda s: self._env_exists.get(self._where(s).id) is False  # noqa: E731
        return budget.verdict(target, budget.content_requests(writes, missing))

    def _write(self, holder: Holder, write: Write) -> None:
        current, desired = write.current, write.desired
        if desired is None:
            if current is not None:
                self._delete(holder, write.key, is_secret(current))
            return
        if desired.secret:
            self._put_secret(holder, write.key, desired.value)
        else:
            self._put_variable(holder, write.key, desired.value, exists=write.action == "update")
        if current is not None and is_secret(current) != desired.secret:
            # The engine chose to replace this key with the other kind: remove the old one so
            # the name does not live on as both a secret and a variable.
            self._delete(holder, write.key, is_secret(current))

    def _put_secret(self, holder: Holder, key: str, value: Secret) -> None:
        key_id, public_key = self._public_key(holder)
        body: dict[str, Any] = {
            "encrypted_value": seal(public_key, value.reveal()),
            "key_id": key_id,
        }
        self.api.request(
            "PUT",
            f"{holder.prefix}/secrets/{key}",
            holder,
            f"write secret {key} to {holder.label}",
            json={**body, **self._org_fields(holder)},
        )

    def _put_variable(self, holder: Holder, key: str, value: Secret, exists: bool) -> None:
        body = {"name": key, "value": value.reveal(), **self._org_fields(holder)}
        action = f"write variable {key} to {holder.label}"
        self.api.put_variable(holder, key, body, action, exists)

    def _delete(self, holder: Holder, key: str, secret: bool) -> None:
        kind = "secrets" if secret else "variables"
        self.api.request(
            "DELETE",
            f"{holder.prefix}/{kind}/{key}",
            holder,
            f"delete {kind[:-1]} {key} from {holder.label}",
            ok=status_in(204, 404),  # already gone is what we wanted
        )

    def _org_fields(self, holder: Holder) -> dict[str, Any]:
        if holder.kind != "org":
            return {}
        fields: dict[str, Any] = {"visibility": holder.visibility}
        if holder.visibility == "selected":
            fields["selected_repository_ids"] = list(holder.repository_ids)
        return fields

    def _public_key(self, holder: Holder) -> tuple[str, str]:
        if holder.id not in self._public_keys:
            action = f"get the public key of {holder.label}"
            response = self.api.request(
                "GET", f"{holder.prefix}/secrets/public-key", holder, action
            )
            body = http.json_body(response, service="GitHub", action=action)
            key_id, key = body.get("key_id"), body.get("key")
            if not isinstance(key, str) or not isinstance(key_id, str | int):
                raise http.shape_error("GitHub", action, response, TypeError("key"))
            self._public_keys[holder.id] = (str(key_id), key)
        return self._public_keys[holder.id]

    def _ensure_environment(self, holder: Holder) -> None:
        exists = self._env_exists.get(holder.id)
        if exists is None:
            found = self.api.request(
                "GET", holder.env_path, holder, f"look up {holder.label}", ok=status_in(200, 404)
            )
            exists = found.status_code == 200
        if exists:
            return
        if not holder.create_environments:
            raise ProviderError(
                f"{holder.label} does not exist and create_environments is false: create it "
                "(repository Settings > Environments) or set create_environments: true"
            )
        self.api.request("PUT", holder.env_path, holder, f"create {holder.label}")
        self._env_exists[holder.id] = True
        self._created.add(holder.id)

    def _check_room(self, holder: Holder, writes: Sequence[Write]) -> None:
        held = self._secret_counts.get(holder.id)
        if held is None:
            return  # not read this run: GitHub's own 422 will say so
        new = sum(
            1
            for w in writes
            if w.desired and w.desired.secret and not (w.current and is_secret(w.current))
        )
        gone = sum(1 for w in writes if w.desired is None and w.current and is_secret(w.current))
        limit = MAX_ORG_SECRETS if holder.kind == "org" else MAX_SECRETS
        if held + new - gone > limit:
            raise ProviderError(
                f"{holder.label} would hold {held + new - gone} secrets; GitHub allows {limit}: "
                "sync fewer keys there or use variables (secret: false) for non-secret values"
            )

    def _markers(
        self, holder: Holder, writes: Sequence[Write], done: dict[str, str | None]
    ) -> dict[str, str | None]:
        # GitHub's PUT answers with no timestamp. One listing (a scope holds at most 100
        # secrets, so one page) costs less than a GET per written secret.
        wanted = [w.key for w in writes if w.key in done and w.desired and w.desired.secret]
        if not wanted:
            return done
        listed = (
            self.api.pages(
                f"{holder.prefix}/secrets",
                "secrets",
                100,
                holder,
                f"list secrets of {holder.label}",
            )
            or []
        )
        stamps = {canonical(str(s["name"])): s.get("updated_at") for s in listed}
        return {**done, **{key: stamps.get(key) for key in wanted}}

    def state_store(self, options: Options) -> StateStore:
        """neon-sync's state kept as one variable of the target's repository (or
        organisation), for CI runs that start without the local state file."""
        holder = parse("state", options, self._env)
        name = variable_name(options)
        check_name(name, "state_variable")
        return VariableStateStore(self.api, holder, name)

    def remove_scope(self, scope: Scope) -> bool:
        """Delete an environment scope if it holds no secrets and no variables; True if it
        is gone. For `--prune` of environments neon-sync created."""
        holder = self._where(scope)
        if holder.kind != "env":
            return False
        if self._read(scope):
            return False
        self.api.request(
            "DELETE", holder.env_path, holder, f"delete {holder.label}", ok=status_in(204, 404)
        )
        self._env_exists[holder.id] = False
        return True

    def _where(self, scope: Scope) -> Holder:
        return parse(scope.target, scope.options, self._env)

    def close(self) -> None:
        self.api.close()


def create(context: Context) -> GitHubProvider:
    return GitHubProvider(context)
