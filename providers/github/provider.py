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
from typing import Any

from neon_sync.errors import ApiError, ConfigError, ProviderError
from neon_sync.providers.base import Context, Current, Desired, Options, Scope, Write
from neon_sync.providers.github.api import Clock, GitHubApi, seal, status_in
from neon_sync.providers.github.names import MAX_SECRETS, check_name, check_size
from neon_sync.providers.github.scope import OPTIONS, Where, parse
from neon_sync.providers.github.state import DEFAULT_VARIABLE, VariableStateStore
from neon_sync.secret import Secret

__all__ = ["OPTIONS", "GitHubProvider", "create", "state_store"]
MAX_ORG_SECRETS = 1000
READ_CONCURRENCY = 4


class GitHubProvider:
    def __init__(self, context: Context, *, clock: Clock | None = None) -> None:
        self._env = context.env
        self.api = GitHubApi(
            context.env, context.transport, context.sleep or time.sleep, clock or time.time
        )
        self._public_keys: dict[str, tuple[str, str]] = {}  # scope id -> (key_id, key)
        self._env_exists: dict[str, bool] = {}  # env scope id -> found by read/apply
        self._secret_counts: dict[str, int] = {}
        self._kind: dict[tuple[str, str], bool] = {}  # (scope id, key) -> config's Desired.secret
        self._created: set[str] = set()

    def created_scopes(self) -> frozenset[str]:
        """Scope ids of environments this run created (for the engine to record, for prune)."""
        return frozenset(self._created)

    def scope(self, target: str, options: Options) -> Scope:
        where = parse(target, options, self._env)
        normal = where.options()
        if "state_variable" in options:
            normal["state_variable"] = options["state_variable"]
        return Scope(target, where.id, normal)

    def check_key(self, scope: Scope, desired: Desired) -> None:
        label = f"target {scope.target!r}"
        check_name(desired.key, label)
        if desired.key == scope.options.get("state_variable", DEFAULT_VARIABLE):
            raise ConfigError(f"{label}: {desired.key} holds neon-sync's state; pick another name")
        check_size(desired.key, desired.value.reveal(), label)
        self._kind[(scope.id, desired.key)] = desired.secret

    def read(self, scopes: Sequence[Scope]) -> Mapping[Scope, Mapping[str, Current]]:
        # GitHub has no bulk listing: two requests per scope, so a few scopes at a time (few
        # enough to stay clear of its secondary limit on concurrent requests).
        with ThreadPoolExecutor(max_workers=READ_CONCURRENCY) as pool:
            return dict(zip(scopes, pool.map(self._read, scopes), strict=True))

    def _read(self, scope: Scope) -> dict[str, Current]:
        where = self._where(scope)
        ok = status_in(200, 404) if where.kind == "env" else None
        secrets = self.api.pages(
            f"{where.prefix}/secrets",
            "secrets",
            100,
            where,
            f"list secrets of {where.label}",
            ok=ok,
        )
        if secrets is None:  # GitHub's 404 for a missing environment, or a missing repository
            self.api.request(
                "GET",
                f"{where.repo_path}/environments",
                where,
                f"look up {where.repository}",
                params={"per_page": 1},
            )
            self._env_exists[where.id] = False
            return {}
        variables = (
            self.api.pages(
                f"{where.prefix}/variables",
                "variables",
                30,
                where,
                f"list variables of {where.label}",
            )
            or []
        )
        self._env_exists[where.id] = True
        self._secret_counts[where.id] = len(secrets)
        hidden = scope.options.get("state_variable", DEFAULT_VARIABLE)
        found: dict[str, Current] = {}
        for item in variables:
            name = str(item["name"]).upper()
            if name != hidden:
                found[name] = Current(name, str(item["value"]), False, item.get("updated_at"))
        for item in secrets:
            name = str(item["name"]).upper()
            if name in found and not self._kind.get((where.id, name), True):
                continue  # held as both kinds and the config wants the variable: show that
            found[name] = Current(name, None, True, item.get("updated_at"))
        return found

    def apply(self, scope: Scope, writes: Sequence[Write]) -> Mapping[str, str | None]:
        where = self._where(scope)
        done: dict[str, str | None] = {}
        try:
            self._check_room(where, writes)
            if where.kind == "env" and any(w.desired for w in writes):
                self._ensure_environment(where)
            for write in writes:
                self._write(where, write)
                done[write.key] = None
            return self._markers(where, writes, done)
        except ApiError as exc:
            # Without markers the engine treats those secrets as changed and rewrites them.
            with contextlib.suppress(ApiError):
                done = self._markers(where, writes, done)
            raise ProviderError(str(exc), done=done) from None

    def _write(self, where: Where, write: Write) -> None:
        current, desired = write.current, write.desired
        if desired is None:
            if current is not None:
                self._delete(where, write.key, _is_secret(current))
            return
        if desired.secret:
            self._put_secret(where, write.key, desired.value)
        else:
            self._put_variable(where, write.key, desired.value, exists=write.action == "update")
        if current is not None and _is_secret(current) != desired.secret:
            # The engine chose to replace this key with the other kind: remove the old one so
            # the name does not live on as both a secret and a variable.
            self._delete(where, write.key, _is_secret(current))

    def _put_secret(self, where: Where, key: str, value: Secret) -> None:
        key_id, public_key = self._public_key(where)
        body: dict[str, Any] = {
            "encrypted_value": seal(public_key, value.reveal()),
            "key_id": key_id,
        }
        self.api.request(
            "PUT",
            f"{where.prefix}/secrets/{key}",
            where,
            f"write secret {key} to {where.label}",
            json={**body, **self._org_fields(where)},
        )

    def _put_variable(self, where: Where, key: str, value: Secret, exists: bool) -> None:
        body = {"name": key, "value": value.reveal(), **self._org_fields(where)}
        action = f"write variable {key} to {where.label}"
        self.api.put_variable(where, key, body, action, exists)

    def _delete(self, where: Where, key: str, secret: bool) -> None:
        kind = "secrets" if secret else "variables"
        self.api.request(
            "DELETE",
            f"{where.prefix}/{kind}/{key}",
            where,
            f"delete {kind[:-1]} {key} from {where.label}",
            ok=status_in(204, 404),  # already gone is what we wanted
        )

    def _org_fields(self, where: Where) -> dict[str, Any]:
        if where.kind != "org":
            return {}
        fields: dict[str, Any] = {"visibility": where.visibility}
        if where.visibility == "selected":
            fields["selected_repository_ids"] = list(where.repository_ids)
        return fields

    def _public_key(self, where: Where) -> tuple[str, str]:
        if where.id not in self._public_keys:
            body = self.api.request(
                "GET",
                f"{where.prefix}/secrets/public-key",
                where,
                f"get the public key of {where.label}",
            ).json()
            self._public_keys[where.id] = (str(body["key_id"]), str(body["key"]))
        return self._public_keys[where.id]

    def _ensure_environment(self, where: Where) -> None:
        exists = self._env_exists.get(where.id)
        if exists is None:
            found = self.api.request(
                "GET", where.env_path, where, f"look up {where.label}", ok=status_in(200, 404)
            )
            exists = found.status_code == 200
        if exists:
            return
        if not where.create_environments:
            raise ProviderError(
                f"{where.label} does not exist and create_environments is false: create it "
                "(repository Settings > Environments) or set create_environments: true"
            )
        self.api.request("PUT", where.env_path, where, f"create {where.label}")
        self._env_exists[where.id] = True
        self._created.add(where.id)

    def _check_room(self, where: Where, writes: Sequence[Write]) -> None:
        held = self._secret_counts.get(where.id)
        if held is None:
            return  # not read this run: GitHub's own 422 will say so
        new = sum(
            1
            for w in writes
            if w.desired and w.desired.secret and not (w.current and _is_secret(w.current))
        )
        gone = sum(1 for w in writes if w.desired is None and w.current and _is_secret(w.current))
        limit = MAX_ORG_SECRETS if where.kind == "org" else MAX_SECRETS
        if held + new - gone > limit:
            raise ProviderError(
                f"{where.label} would hold {held + new - gone} secrets; GitHub allows {limit}: "
                "sync fewer keys there or use variables (secret: false) for non-secret values"
            )

    def _markers(
        self, where: Where, writes: Sequence[Write], done: dict[str, str | None]
    ) -> dict[str, str | None]:
        # GitHub's PUT answers with no timestamp. One listing (a scope holds at most 100
        # secrets, so one page) costs less than a GET per written secret.
        wanted = [w.key for w in writes if w.key in done and w.desired and w.desired.secret]
        if not wanted:
            return done
        listed = (
            self.api.pages(
                f"{where.prefix}/secrets", "secrets", 100, where, f"list secrets of {where.label}"
            )
            or []
        )
        stamps = {str(s["name"]).upper(): s.get("updated_at") for s in listed}
        return {**done, **{key: stamps.get(key) for key in wanted}}

    def remove_scope(self, scope: Scope) -> bool:
        """Delete an environment scope if it holds no secrets and no variables; True if it
        is gone. For `--prune` of environments neon-sync created."""
        where = self._where(scope)
        if where.kind != "env":
            return False
        if self._read(scope):
            return False
        self.api.request(
            "DELETE", where.env_path, where, f"delete {where.label}", ok=status_in(204, 404)
        )
        self._env_exists[where.id] = False
        return True

    def _where(self, scope: Scope) -> Where:
        return parse(scope.target, scope.options, self._env)

    def close(self) -> None:
        self.api.close()


def _is_secret(current: Current) -> bool:
    # read() always sets `secret`; a Current made elsewhere may leave it None, and then
    # only a secret comes without a value.
    return current.value is None if current.secret is None else current.secret


def create(context: Context) -> GitHubProvider:
    return GitHubProvider(context)


def state_store(context: Context, options: Options) -> VariableStateStore:
    """neon-sync's state kept as one variable of the target's repository (or organisation),
    for CI runs that start without the local state file."""
    where = parse("state", options, context.env)
    name = str(options.get("state_variable") or DEFAULT_VARIABLE)
    check_name(name, "state_variable")
    api = GitHubApi(context.env, context.transport, context.sleep or time.sleep, time.time)
    return VariableStateStore(api, where, name)
