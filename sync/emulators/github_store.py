"""What the GitHub emulator holds and how GitHub shows it: places with key pairs, secrets and
variables, environments, JSON shapes, paging and GitHub's validation rules."""

from __future__ import annotations

import base64
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from nacl.public import PrivateKey

from neon_sync.emulators.base import json_response

MAX_BYTES = 48 * 1024
SECRET_LIMIT = {"repo": 100, "env": 100, "org": 1000}
VARIABLE_LIMIT = {"repo": 500, "env": 100, "org": 1000}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class Item:
    value: str  # a secret's decrypted plaintext, or a variable's value
    created_at: str
    updated_at: str
    visibility: str | None = None  # organisation items
    selected: list[int] = field(default_factory=list)


@dataclass
class Place:
    """Anything that holds Actions secrets and variables: a repository, an environment or
    an organisation, each with its own key pair."""

    kind: str  # "repo", "env", "org"
    key_id: str
    private_key: PrivateKey = field(default_factory=PrivateKey.generate)
    secrets: dict[str, Item] = field(default_factory=dict)
    variables: dict[str, Item] = field(default_factory=dict)

    def public_key_json(self) -> dict[str, Any]:
        key = base64.b64encode(bytes(self.private_key.public_key)).decode()
        return {"key_id": self.key_id, "key": key}


@dataclass
class Environment:
    id: int
    name: str
    created_at: str
    updated_at: str
    place: Place


@dataclass
class Repo:
    id: int
    full_name: str
    place: Place
    environments: dict[str, Environment] = field(default_factory=dict)  # lower-case name


class Store:
    """Ids and timestamps: every change gets a strictly later updated_at (GitHub's are whole
    seconds), so a change right after ours is still visible as a change."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._ids = itertools.count(1296269)
        self._last = 0

    def next_id(self) -> int:
        return next(self._ids)

    def place(self, kind: str) -> Place:
        return Place(kind, str(self.next_id() * 7919))

    def stamp(self) -> str:
        now = max(int(self.clock()), self._last + 1)
        self._last = now
        return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def put(self, items: dict[str, Item], name: str, value: str, body: Any = None) -> None:
        stamp = self.stamp()
        old = items.get(name)
        item = Item(value, old.created_at if old else stamp, stamp)
        if isinstance(body, dict) and body.get("visibility"):
            item.visibility = body["visibility"]
            item.selected = list(body.get("selected_repository_ids") or [])
        elif old:
            item.visibility, item.selected = old.visibility, old.selected
        items[name] = item


def secret_json(place: Place, name: str, item: Item) -> dict[str, Any]:
    row = {"name": name, "created_at": item.created_at, "updated_at": item.updated_at}
    return _org_fields(place, "secrets", name, item, row)


def variable_json(place: Place, name: str, item: Item) -> dict[str, Any]:
    row = {
        "name": name,
        "value": item.value,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }
    return _org_fields(place, "variables", name, item, row)


def _org_fields(
    place: Place, kind: str, name: str, item: Item, row: dict[str, Any]
) -> dict[str, Any]:
    if place.kind == "org":
        row["visibility"] = item.visibility or "private"
        if row["visibility"] == "selected":
            row["selected_repositories_url"] = (
                f"https://api.github.com/orgs/org/actions/{kind}/{name}/repositories"
            )
    return row


def environment_json(repo: Repo, env: Environment) -> dict[str, Any]:
    return {
        "id": env.id,
        "node_id": base64.b64encode(f"Environment{env.id}".encode()).decode(),
        "name": env.name,
        "url": f"https://api.github.com/repos/{repo.full_name}/environments/{env.name}",
        "html_url": f"https://github.com/{repo.full_name}/deployments/activity_log"
        f"?environments_filter={env.name}",
        "created_at": env.created_at,
        "updated_at": env.updated_at,
        "protection_rules": [],
        "deployment_branch_policy": None,
    }


def page(
    request: httpx.Request, name: str, rows: list[dict[str, Any]], *, default: int, limit: int
) -> httpx.Response:
    """One page of `rows` as GitHub pages: per_page (capped) and page, total_count, and a
    Link header with absolute prev/first/next/last URLs."""
    per_page = min(max(_int(request.url.params.get("per_page"), default), 1), limit)
    number = max(_int(request.url.params.get("page"), 1), 1)
    last = max(1, -(-len(rows) // per_page))
    body = {"total_count": len(rows), name: rows[(number - 1) * per_page : number * per_page]}

    def link(target: int, rel: str) -> str:
        url = request.url.copy_set_param("per_page", per_page).copy_set_param("page", target)
        return f'<{url}>; rel="{rel}"'

    links = []
    if number > 1:
        links += [link(number - 1, "prev"), link(1, "first")]
    if number < last:
        links += [link(number + 1, "next"), link(last, "last")]
    return json_response(200, body, {"link": ", ".join(links)} if links else None)


def request_json(request: httpx.Request) -> Any:
    try:
        return json.loads(request.content or b"null")
    except ValueError:
        return None


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def name_problem(name: Any) -> str | None:
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        return (
            "Invalid name: names may contain only alphanumeric characters and underscores, "
            "and may not start with a number"
        )
    if name.upper().startswith("GITHUB_"):
        return "Invalid name: names must not start with the GITHUB_ prefix"
    return None


def value_problem(value: Any) -> str | None:
    if not isinstance(value, str):
        return "Invalid request: value must be a string"
    if len(value.encode()) > MAX_BYTES:
        return "Variable value is too large (48 KB at most)"
    return None


def body_problem(body: Any, required: tuple[str, ...], place: Place) -> str | None:
    if not isinstance(body, dict):
        return "Invalid request. A JSON object is required."
    if place.kind == "org":
        required = (*required, "visibility")
    missing = [key for key in required if not isinstance(body.get(key), str)]
    if missing:
        return f"Invalid request. Missing or invalid {', '.join(missing)}."
    if place.kind == "org" and body["visibility"] not in ("all", "private", "selected"):
        return "Invalid request. visibility must be all, private or selected."
    return None
