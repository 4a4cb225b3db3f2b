"""An emulator of GitHub's REST API for Actions secrets, variables and environments.

Repositories, environments and organisations each hold a real NaCl key pair; secrets arrive
sealed to it and are decrypted, so tests assert the plaintext GitHub would hold:

    emu = GitHubEmulator(token="ghp_test")
    emu.add_repo("acme/shop")
    emu.add_environment("acme/shop", "pr-1")
    ...
    emu.secret_plaintext("acme/shop", "DATABASE_URL", environment="pr-1")

Status codes, fields, paging (per_page/page, Link) and error bodies follow
tests/specs/github-actions-secrets-variables.json and the gaps noted beside it (409 on an
existing variable, 422 on a bad name, rate-limit headers, a workflow token's 403).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import httpx

from neon_sync.emulators.base import json_response
from neon_sync.emulators.github_items import GitHubItems, Params
from neon_sync.emulators.github_store import (
    Environment,
    Place,
    Repo,
    Store,
    environment_json,
    page,
)
from neon_sync.emulators.limits import Window

DOCS = "https://docs.github.com/rest"
_REPO = r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)"
_ENV = _REPO + r"/environments/(?P<env>[^/]+)"
_ORG = r"/orgs/(?P<org>[^/]+)"


class GitHubEmulator(GitHubItems):
    def __init__(self, token: str, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__()
        self.token = token
        self.workflow_token = False  # True: the token is a workflow's own GITHUB_TOKEN
        self.store = Store(clock)
        self.repos = {}
        self.orgs = {}
        for prefix in (_REPO + "/actions", _ENV, _ORG + "/actions"):
            secret, variable = (
                prefix + "/secrets/(?P<name>[^/]+)",
                prefix + "/variables/(?P<name>[^/]+)",
            )
            self.route("GET", prefix + "/secrets/public-key", self._public_key)
            self.route("GET", prefix + "/secrets", self._list_secrets)
            self.route("GET", secret, self._get_secret)
            self.route("PUT", secret, self._put_secret)
            self.route("DELETE", secret, self._delete_secret)
            self.route("GET", prefix + "/variables", self._list_variables)
            self.route("POST", prefix + "/variables", self._post_variable)
            self.route("GET", variable, self._get_variable)
            self.route("PATCH", variable, self._patch_variable)
            self.route("DELETE", variable, self._delete_variable)
        self.route("GET", _REPO + "/environments", self._list_environments)
        self.route("GET", _ENV, self._get_environment)
        self.route("PUT", _ENV, self._put_environment)
        self.route("DELETE", _ENV, self._delete_environment)

    # -- building and inspecting, for tests -------------------------------------------------

    def add_repo(self, full_name: str) -> Repo:
        repo = Repo(self.store.next_id(), full_name, self.store.place("repo"))
        self.repos[full_name.lower()] = repo
        return repo

    def add_environment(self, full_name: str, name: str) -> Environment:
        stamp = self.store.stamp()
        env = Environment(self.store.next_id(), name, stamp, stamp, self.store.place("env"))
        self.repos[full_name.lower()].environments[name.lower()] = env
        return env

    def add_org(self, login: str) -> Place:
        self.orgs[login.lower()] = self.store.place("org")
        return self.orgs[login.lower()]

    def holder(self, where: str, environment: str | None = None) -> Place:
        """The place named "owner/repo" (or one of its environments), or an org's login."""
        if "/" not in where:
            return self.orgs[where.lower()]
        repo = self.repos[where.lower()]
        return repo.environments[environment.lower()].place if environment else repo.place

    def secret_plaintext(self, where: str, name: str, environment: str | None = None) -> str | None:
        item = self.holder(where, environment).secrets.get(name.upper())
        return item.value if item else None

    def variable_value(self, where: str, name: str, environment: str | None = None) -> str | None:
        item = self.holder(where, environment).variables.get(name.upper())
        return item.value if item else None

    def set_secret(self, where: str, name: str, value: str, environment: str | None = None) -> None:
        """Write a secret as someone else would: its updated_at moves."""
        self.store.put(self.holder(where, environment).secrets, name.upper(), value)

    def set_variable(
        self, where: str, name: str, value: str, environment: str | None = None
    ) -> None:
        self.store.put(self.holder(where, environment).variables, name.upper(), value)

    def environment_names(self, full_name: str) -> list[str]:
        return sorted(env.name for env in self.repos[full_name.lower()].environments.values())

    def rate_limit(
        self,
        *,
        times: int = 1,
        reset_in: float = 30.0,
        status: int = 403,
        retry_after: int | None = None,
        method: str | None = None,
    ) -> None:
        """Answer the next `times` requests as GitHub does when a limit is spent: the primary
        one (x-ratelimit-remaining: 0 until x-ratelimit-reset, epoch seconds) or, given
        `retry_after`, the secondary one."""
        if retry_after is not None:
            headers = {"retry-after": str(retry_after)}
            message = (
                "You have exceeded a secondary rate limit. "
                "Please wait a few minutes before you try again."
            )
        else:
            headers = {
                "x-ratelimit-limit": "5000",
                "x-ratelimit-remaining": "0",
                "x-ratelimit-used": "5000",
                "x-ratelimit-reset": str(int(self.store.clock() + reset_in)),
                "x-ratelimit-resource": "core",
            }
            message = "API rate limit exceeded for user ID 1."
        docs = f"{DOCS}/overview/rate-limits-for-the-rest-api"
        body = {"message": message, "documentation_url": docs, "status": str(status)}
        self.inject(status, times=times, method=method, headers=headers, body=body)

    def rate_limited(self, window: Window, wait: float) -> httpx.Response:
        if window.what == "secondary":
            headers = {"retry-after": str(max(1, math.ceil(wait)))}
            message = (
                "You have exceeded a secondary rate limit. "
                "Please wait a few minutes before you try again."
            )
            status = 403
        else:
            headers = {
                "x-ratelimit-limit": str(window.limit),
                "x-ratelimit-remaining": "0",
                "x-ratelimit-used": str(window.limit),
                "x-ratelimit-reset": str(math.ceil(self.store.clock() + wait)),
                "x-ratelimit-resource": "core",
            }
            message, status = "API rate limit exceeded for user ID 1.", 403
        docs = f"{DOCS}/overview/rate-limits-for-the-rest-api"
        body = {"message": message, "documentation_url": docs, "status": str(status)}
        return json_response(status, body, headers)

    # -- the service ------------------------------------------------------------------------

    def error(self, status: int, message: str, **extra: Any) -> httpx.Response:
        body = {"message": message, "documentation_url": DOCS, "status": str(status), **extra}
        return json_response(status, body)

    def authorize(self, request: httpx.Request) -> httpx.Response | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if not token:
            return self.error(401, "Requires authentication")
        if scheme.lower() not in ("bearer", "token") or token != self.token:
            return self.error(401, "Bad credentials")
        # A workflow's GITHUB_TOKEN has no Secrets, Variables or Environments permission.
        touches = re.search(r"/(secrets|variables)(/|$)", request.url.path)
        if self.workflow_token and (touches or request.method in ("PUT", "DELETE")):
            return self.error(403, "Resource not accessible by integration")
        return None

    def _dispatch(self, request: httpx.Request, path: str) -> httpx.Response:
        # Route on the raw path, so an environment named "a/b" (sent as a%2Fb) stays one
        # segment; accept GitHub Enterprise Server's /api/v3 prefix too.
        raw = request.url.raw_path.decode("ascii").split("?", 1)[0]
        return super()._dispatch(request, raw.removeprefix("/api/v3"))

    def _list_environments(self, request: httpx.Request, **params: str) -> httpx.Response:
        repo = self._repo(params)
        if repo is None:
            return self.error(404, "Not Found")
        rows = [environment_json(repo, env) for _, env in sorted(repo.environments.items())]
        return page(request, "environments", rows, default=30, limit=100)

    def _get_environment(self, request: httpx.Request, **params: str) -> httpx.Response:
        repo, env = self._environment(params)
        if repo is None or env is None:
            return self.error(404, "Not Found")
        return json_response(200, environment_json(repo, env))

    def _put_environment(self, request: httpx.Request, **params: str) -> httpx.Response:
        repo, env = self._environment(params)
        if repo is None:
            return self.error(404, "Not Found")
        name = unquote(params["env"])
        if not name or len(name) > 255 or any(ord(c) < 32 for c in name):
            return self.error(422, "Validation Failed: the environment name is invalid")
        if env is None:
            env = self.add_environment(repo.full_name, name)
        else:
            env.updated_at = self.store.stamp()
        return json_response(200, environment_json(repo, env))

    def _delete_environment(self, request: httpx.Request, **params: str) -> httpx.Response:
        repo, env = self._environment(params)
        if repo is None or env is None:
            return self.error(404, "Not Found")
        del repo.environments[env.name.lower()]
        return json_response(204)

    def _environment(self, params: Params) -> tuple[Repo | None, Environment | None]:
        repo = self._repo(params)
        env = repo.environments.get(unquote(params["env"]).lower()) if repo else None
        return repo, env
