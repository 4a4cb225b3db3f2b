"""The Neon API v2 client: branches, endpoints, role passwords and connection URIs, plus the
few writes neon-sync makes (create/delete a branch, reset a password), each waiting for the
operations it starts.

Every answer is cached for the client's life (`invalidate()` drops the caches), so one run
never fetches the same thing twice. How requests reach Neon (limits, retries, hints,
operations) is neon.api's.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Any, TypeVar

from neon_sync.errors import NeonSyncError
from neon_sync.neon import DEFAULT_API_HOST, checks
from neon_sync.neon.api import RETRY, NeonApi
from neon_sync.neon.limiter import Limits
from neon_sync.neon.model import (
    Branch,
    Database,
    Endpoint,
    Role,
    all_pages,
    branch_from,
    database_from,
    endpoint_from,
    json_of,
    parse,
    role_from,
    uri_secret,
)
from neon_sync.secret import Secret

__all__ = [
    "DEFAULT_API_HOST",
    "RETRY",
    "Branch",
    "Database",
    "Endpoint",
    "NeonClient",
    "Role",
]

PAGE_SIZE = 1000  # branches per page; the spec allows up to 10000

_K = TypeVar("_K")
_V = TypeVar("_V")
Pair = tuple[str, str]  # (branch_id, role)
UriKey = tuple[str, str, str, bool, str | None]  # (branch_id, database, role, pooled, endpoint)


class NeonClient(NeonApi):
    """One Neon project, through one API key. Thread-safe; use as a context manager."""

    _branches: list[Branch] | None
    _endpoints: list[Endpoint] | None
    _roles: dict[str, list[Role]]
    _databases: dict[str, list[Database]]
    _passwords: dict[Pair, Secret]
    _uris: dict[UriKey, Secret]

    def __init__(
        self,
        api_key: str,
        project_id: str,
        *,
        concurrency: int = int(Limits().ceiling),
        page_size: int = PAGE_SIZE,
        **api: Any,  # NeonApi's: api_host, transport, sleep, operation_timeout, limits
    ) -> None:
        super().__init__(api_key, project_id, **api)
        self._concurrency = max(1, concurrency)
        self._page_size = page_size
        self._lock = threading.Lock()  # guards the caches
        self._listing = threading.Lock()  # one fetch of a project-wide list at a time
        self.invalidate()

    # -- reads ----------------------------------------------------------------------------------

    def branches(self) -> list[Branch]:
        """Every branch of the project, following `pagination.next` cursors."""
        with self._listing:
            if self._branches is None:
                self._branches = self._fetch_branches()
            return list(self._branches)

    def endpoints(self) -> list[Endpoint]:
        """Every compute endpoint of the project, in one request."""
        with self._listing:
            if self._endpoints is None:
                action = f"list the endpoints of project {self.project_id}"
                body = self._get(f"{self._project_path}/endpoints", action)
                self._endpoints = parse(action, lambda: list(map(endpoint_from, body["endpoints"])))
            return list(self._endpoints)

    def roles(self, branch_id: str) -> list[Role]:
        def fetch() -> list[Role]:
            action = f"list the roles of branch {branch_id}"
            body = self._get(f"{self._branch_path(branch_id)}/roles", action, branch_id)
            return parse(action, lambda: list(map(role_from, body["roles"])))

        roles: list[Role] = self._once(self._roles, branch_id, fetch)
        return list(roles)

    def databases(self, branch_id: str) -> list[Database]:
        def fetch() -> list[Database]:
            action = f"list the databases of branch {branch_id}"
            body = self._get(f"{self._branch_path(branch_id)}/databases", action, branch_id)
            return parse(action, lambda: list(map(database_from, body["databases"])))

        databases: list[Database] = self._once(self._databases, branch_id, fetch)
        return list(databases)

    def password(self, branch_id: str, role: str) -> Secret:
        """The role's password on the branch (reveal_password), fetched once."""
        return self._once(self._passwords, (branch_id, role), lambda: self._reveal(branch_id, role))

    def passwords(self, needed: Iterable[Pair]) -> dict[Pair, Secret]:
        """Passwords of the distinct (branch_id, role) pairs, revealed concurrently: as many
        in flight as the limiter allows, at most `concurrency`.
        Raises the first failure, in `needed` order."""
        pairs = list(dict.fromkeys(needed))
        with self._lock:
            missing = [pair for pair in pairs if pair not in self._passwords]
        if len(missing) > 1 and self._concurrency > 1:
            self._reveal_all(missing)
        for pair in missing:
            self.password(*pair)  # cached by now, unless only one was missing
        with self._lock:
            return {pair: self._passwords[pair] for pair in pairs}

    def reveal_each(self, needed: Iterable[Pair]) -> dict[Pair, Secret | NeonSyncError]:
        """Each pair's password, or why Neon would not give it. Unlike `passwords`, every
        pair is tried, so one role's failure stays that role's; what works is cached."""
        pairs = list(dict.fromkeys(needed))
        with self._lock:
            missing = [pair for pair in pairs if pair not in self._passwords]

        def one(pair: Pair) -> Secret | NeonSyncError:
            try:
                return self.password(*pair)
            except NeonSyncError as exc:
                return exc

        tried: dict[Pair, Secret | NeonSyncError] = {}
        if missing:
            workers = max(1, min(self._concurrency, len(missing)))
            with ThreadPoolExecutor(workers, "neon-reveal") as pool:
                tried = dict(zip(missing, pool.map(one, missing), strict=True))
        with self._lock:
            return {pair: tried[pair] if pair in tried else self._passwords[pair] for pair in pairs}

    def connection_uri(
        self,
        branch_id: str,
        database: str,
        role: str,
        *,
        pooled: bool,
        endpoint_id: str | None = None,
    ) -> Secret:
        """Neon's own connection URI for the database (GET /connection_uri)."""
        params = {
            "branch_id": branch_id,
            "database_name": database,
            "role_name": role,
            "pooled": "true" if pooled else "false",
        }
        if endpoint_id:
            params["endpoint_id"] = endpoint_id

        def fetch() -> Secret:
            action = f"get the connection URI of {role}@{database} on branch {branch_id}"
            path = f"{self._project_path}/connection_uri"
            body = self._get(path, action, branch_id, role=role, params=params)
            return parse(action, lambda: uri_secret(str(body["uri"])))

        return self._once(self._uris, (branch_id, database, role, pooled, endpoint_id), fetch)

    # -- writes ---------------------------------------------------------------------------------

    def create_branch(
        self, name: str, *, parent_id: str | None = None, expires_at: str | None = None
    ) -> Branch:
        """A new branch with a read_write endpoint, returned once its operations finish."""
        spec = {"name": name}
        if parent_id:
            spec["parent_id"] = parent_id
        if expires_at:
            spec["expires_at"] = expires_at
        action = f"create branch {name!r} in project {self.project_id}"
        request = {"branch": spec, "endpoints": [{"type": "read_write"}]}
        body = json_of(
            self._call("POST", f"{self._project_path}/branches", action, json=request), action
        )
        branch = parse(action, lambda: branch_from(body["branch"]))
        with self._lock:
            self._branches = self._endpoints = None
            # The answer carries the owner's password: keep it, a reveal saved.
            for details in body.get("connection_uris") or []:
                found = details.get("connection_parameters") if isinstance(details, dict) else None
                if not isinstance(found, dict) or not isinstance(found.get("password"), str):
                    continue
                if found.get("role") and found.get("password"):
                    self._passwords[(branch.id, found["role"])] = Secret(found["password"])
        self._wait(body.get("operations") or [], action)
        return branch

    def delete_branch(self, branch_id: str) -> None:
        """Delete the branch and wait for its operations; a branch already gone is fine."""
        action = f"delete branch {branch_id} of project {self.project_id}"
        response = self._call(
            "DELETE",
            self._branch_path(branch_id),
            action,
            branch_id,
            ok=lambda r: r.is_success or r.status_code == 404,
        )
        with self._lock:
            self._branches = self._endpoints = None
            self._roles.pop(branch_id, None)
            self._databases.pop(branch_id, None)
            self._passwords = {k: v for k, v in self._passwords.items() if k[0] != branch_id}
            self._uris = {k: v for k, v in self._uris.items() if k[0] != branch_id}
        if response.status_code == 200:
            self._wait(json_of(response, action).get("operations") or [], action)

    def reset_password(self, branch_id: str, role: str) -> Secret:
        """A new password for the role, returned once it is in use (its operations finished)."""
        action = f"reset the password of role {role!r} on branch {branch_id}"
        path = f"{self._role_path(branch_id, role)}/reset_password"
        body = json_of(self._call("POST", path, action, branch_id, role=role), action)
        value = parse(action, lambda: body["role"]["password"])
        secret = Secret(checks.password(value, action, f"POST {path}"))
        with self._lock:  # the old password is gone once the operations finish
            self._passwords[(branch_id, role)] = secret
            self._roles.pop(branch_id, None)  # the role's updated_at moved
            self._uris = {k: v for k, v in self._uris.items() if (k[0], k[2]) != (branch_id, role)}
        self._wait(body.get("operations") or [], action)
        return secret

    # -- lifecycle ------------------------------------------------------------------------------

    def invalidate(self) -> None:
        """Forget everything fetched, so the next reads ask Neon again."""
        with self._lock:
            self._branches = None
            self._endpoints = None
            self._roles = {}
            self._databases = {}
            self._passwords = {}
            self._uris = {}

    # -- internals ------------------------------------------------------------------------------

    def _fetch_branches(self) -> list[Branch]:
        action = f"list the branches of project {self.project_id}"
        path = f"{self._project_path}/branches"
        return all_pages(
            lambda params: self._get(path, action, params=params), self._page_size, action
        )

    def _reveal(self, branch_id: str, role: str) -> Secret:
        action = f"reveal the password of role {role!r} on branch {branch_id}"
        path = f"{self._role_path(branch_id, role)}/reveal_password"
        body = self._get(path, action, branch_id, role=role)
        value = parse(action, lambda: body["password"])
        return Secret(checks.password(value, action, f"GET {path}"))

    def _reveal_all(self, pairs: list[Pair]) -> None:
        with ThreadPoolExecutor(min(self._concurrency, len(pairs)), "neon-reveal") as pool:
            futures = {pair: pool.submit(self._reveal, *pair) for pair in pairs}
            _, pending = wait(futures.values(), return_when=FIRST_EXCEPTION)
            for future in pending:
                future.cancel()  # one failure fails the batch: start no more
        first: BaseException | None = None
        with self._lock:
            for pair, future in futures.items():
                if future.cancelled():
                    continue
                if (error := future.exception()) is None:
                    self._passwords.setdefault(pair, future.result())
                elif first is None:
                    first = error
        if first is not None:
            raise first

    def _once(self, cache: dict[_K, _V], key: _K, fetch: Callable[[], _V]) -> _V:
        """The cached value, or fetch it (outside the lock, so fetches run concurrently)."""
        with self._lock:
            if key in cache:
                return cache[key]
        value = fetch()
        with self._lock:
            return cache.setdefault(key, value)
