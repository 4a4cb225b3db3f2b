"""The GitHub emulator's Actions secret and variable routes, for repositories, environments and
organisations alike: the public key, list, read, write (sealed secrets decrypted) and delete."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

import httpx
from nacl.exceptions import CryptoError
from nacl.public import SealedBox

from neon_sync.emulators.base import Emulator, json_response
from neon_sync.emulators.github_store import (
    MAX_BYTES,
    SECRET_LIMIT,
    VARIABLE_LIMIT,
    Place,
    Repo,
    Store,
    body_problem,
    name_problem,
    page,
    request_json,
    secret_json,
    value_problem,
    variable_json,
)

Params = dict[str, str]


class GitHubItems(Emulator):
    """Route handlers a GitHubEmulator registers under each place's /secrets and /variables."""

    store: Store
    repos: dict[str, Repo]  # lower-case owner/name
    orgs: dict[str, Place]  # lower-case login

    def _repo(self, params: Params) -> Repo | None:
        return self.repos.get(f"{unquote(params['owner'])}/{unquote(params['repo'])}".lower())

    def _place(self, params: Params) -> Place | None:
        if "org" in params:
            return self.orgs.get(unquote(params["org"]).lower())
        repo = self._repo(params)
        if repo is None or "env" not in params:
            return repo.place if repo else None
        env = repo.environments.get(unquote(params["env"]).lower())
        return env.place if env else None

    def _public_key(self, request: httpx.Request, **params: str) -> httpx.Response:
        place = self._place(params)
        if place is None:
            return self.error(404, "Not Found")
        return json_response(200, place.public_key_json())

    def _list_secrets(self, request: httpx.Request, **params: str) -> httpx.Response:
        place = self._place(params)
        if place is None:
            return self.error(404, "Not Found")
        rows = [secret_json(place, n, item) for n, item in sorted(place.secrets.items())]
        return page(request, "secrets", rows, default=30, limit=100)

    def _get_secret(self, request: httpx.Request, **params: str) -> httpx.Response:
        place, name = self._place(params), unquote(params["name"]).upper()
        if place is None or name not in place.secrets:
            return self.error(404, "Not Found")
        return json_response(200, secret_json(place, name, place.secrets[name]))

    def _put_secret(self, request: httpx.Request, **params: str) -> httpx.Response:
        place, name, body = self._place(params), unquote(params["name"]), request_json(request)
        if place is None:
            return self.error(404, "Not Found")
        problem = name_problem(name) or body_problem(body, ("encrypted_value", "key_id"), place)
        if problem:
            return self.error(422, problem)
        if body["key_id"] != place.key_id:
            return self.error(422, "Bad request - key_id does not match the public key")
        try:
            sealed = base64.b64decode(body["encrypted_value"], validate=True)
            plaintext = SealedBox(place.private_key).decrypt(sealed).decode("utf-8")
        except (binascii.Error, CryptoError, UnicodeDecodeError):
            return self.error(422, "Bad request - encrypted_value could not be decrypted")
        if len(plaintext.encode()) > MAX_BYTES:
            return self.error(422, "Secret value is too large (48 KB at most)")
        name = name.upper()
        created = name not in place.secrets
        if created and len(place.secrets) >= SECRET_LIMIT[place.kind]:
            return self.error(422, "Secret limit reached")
        self.store.put(place.secrets, name, plaintext, body)
        return json_response(201, {}) if created else json_response(204)

    def _delete_secret(self, request: httpx.Request, **params: str) -> httpx.Response:
        place, name = self._place(params), unquote(params["name"]).upper()
        if place is None or place.secrets.pop(name, None) is None:
            return self.error(404, "Not Found")
        return json_response(204)

    def _list_variables(self, request: httpx.Request, **params: str) -> httpx.Response:
        place = self._place(params)
        if place is None:
            return self.error(404, "Not Found")
        rows = [variable_json(place, n, item) for n, item in sorted(place.variables.items())]
        return page(request, "variables", rows, default=10, limit=30)

    def _get_variable(self, request: httpx.Request, **params: str) -> httpx.Response:
        place, name = self._place(params), unquote(params["name"]).upper()
        if place is None or name not in place.variables:
            return self.error(404, "Not Found")
        return json_response(200, variable_json(place, name, place.variables[name]))

    def _post_variable(self, request: httpx.Request, **params: str) -> httpx.Response:
        place, body = self._place(params), request_json(request)
        if place is None:
            return self.error(404, "Not Found")
        problem = body_problem(body, ("name", "value"), place)
        problem = problem or name_problem(body["name"]) or value_problem(body["value"])
        if problem:
            return self.error(422, problem)
        name = body["name"].upper()
        if name in place.variables:
            return self.error(409, "Already exists - Variable already exists")
        if len(place.variables) >= VARIABLE_LIMIT[place.kind]:
            return self.error(422, "Variable limit reached")
        self.store.put(place.variables, name, body["value"], body)
        return json_response(201, {})

    def _patch_variable(self, request: httpx.Request, **params: str) -> httpx.Response:
        place, name, body = (
            self._place(params),
            unquote(params["name"]).upper(),
            request_json(request),
        )
        if place is None or name not in place.variables:
            return self.error(404, "Not Found")
        if not isinstance(body, dict):
            return self.error(422, "Invalid request. A JSON object is required.")
        new_name = body.get("name", name)
        value = body.get("value", place.variables[name].value)
        problem = name_problem(new_name) or value_problem(value)
        if problem:
            return self.error(422, problem)
        new_name = new_name.upper()
        if new_name != name:  # PATCH may rename
            if new_name in place.variables:
                return self.error(409, "Already exists - Variable already exists")
            place.variables[new_name] = place.variables.pop(name)
        self.store.put(place.variables, new_name, value, body)
        return json_response(204)

    def _delete_variable(self, request: httpx.Request, **params: str) -> httpx.Response:
        place, name = self._place(params), unquote(params["name"]).upper()
        if place is None or place.variables.pop(name, None) is None:
            return self.error(404, "Not Found")
        return json_response(204)
