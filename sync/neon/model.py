"""What the Neon client hands out (Branch, Endpoint, Role, Database), how Neon's JSON becomes
those, the hints added to Neon's errors, and the wait for a write's operations."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import httpx

from neon_sync.errors import ApiError
from neon_sync.http import json_body, route_of
from neon_sync.secret import MASK, Secret, remember

SERVICE = "Neon"
MAX_PAGES = 1000  # a bound on paging, in case a server keeps handing out cursors
_DONE = frozenset({"finished", "skipped"})
_FAILED = frozenset({"failed", "error", "cancelled"})
_T = TypeVar("_T")
Json = dict[str, Any]


@dataclass(frozen=True)
class Branch:
    id: str
    name: str
    default: bool
    protected: bool
    parent_id: str | None
    created_at: str
    updated_at: str


@dataclass(frozen=True)
class Endpoint:
    id: str
    branch_id: str
    host: str
    type: str  # "read_write" | "read_only"
    current_state: str = ""  # "init" | "active" | "idle"
    updated_at: str = ""
    disabled: bool = False  # a disabled compute refuses connections


@dataclass(frozen=True)
class Role:
    name: str
    updated_at: str | None
    protected: bool


@dataclass(frozen=True)
class Database:
    name: str
    owner_name: str


def text(data: Json, key: str) -> str:
    """A field that must be a non-empty string (TypeError otherwise, which parse() reports)."""
    value = data[key]
    if not isinstance(value, str) or not value:
        raise TypeError(f"{key} is {type(value).__name__}, not a non-empty string")
    return value


def branch_from(data: Json) -> Branch:
    return Branch(
        id=text(data, "id"),
        name=text(data, "name"),
        default=bool(data.get("default", data.get("primary", False))),
        protected=bool(data.get("protected", False)),
        parent_id=data.get("parent_id"),
        created_at=data["created_at"],
        updated_at=data["updated_at"],
    )


def endpoint_from(data: Json) -> Endpoint:
    return Endpoint(
        id=text(data, "id"),
        branch_id=text(data, "branch_id"),
        host=text(data, "host"),
        type=text(data, "type"),
        current_state=data.get("current_state", ""),
        updated_at=data.get("updated_at", ""),
        disabled=bool(data.get("disabled", False)),
    )


def role_from(data: Json) -> Role:
    return Role(data["name"], data.get("updated_at"), bool(data.get("protected", False)))


def database_from(data: Json) -> Database:
    return Database(data["name"], data["owner_name"])


def uri_secret(uri: str) -> Secret:
    """A connection URI as a Secret whose masked form shows everything but the password."""
    parts = urlsplit(uri)
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    remember(unquote(password))  # the decoded password is masked too, wherever it shows up
    return Secret(uri, parts._replace(netloc=f"{user}:{MASK}@{host}").geturl())


# The route of the answer this thread parsed last: parse() runs right after json_of() in
# the same thread, and names it in its errors without every call site passing it along.
_answer = threading.local()


def json_of(response: httpx.Response, action: str) -> Json:
    _answer.route = route_of(response)
    body: Json = json_body(response, service=SERVICE, action=action)
    return body


def parse(action: str, build: Callable[[], _T]) -> _T:
    """Run `build` over an answer; a missing or mistyped field becomes an ApiError."""
    try:
        return build()
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        detail = f"field {exc}" if isinstance(exc, KeyError) else str(exc) or type(exc).__name__
        route = getattr(_answer, "route", None)
        message = f"{route} answered an unexpected shape ({detail})" if route else detail
        raise ApiError(SERVICE, action, message) from None


def all_pages(get: Callable[[dict[str, Any]], Json], page_size: int, action: str) -> list[Branch]:
    """Every branch, following `pagination.next` cursors; `get(params)` fetches one page."""
    # Oldest first: a branch changed while we page cannot jump between pages, as it can
    # under the default order (updated_at).
    params: dict[str, Any] = {"limit": page_size, "sort_by": "created_at", "sort_order": "asc"}
    found: dict[str, Branch] = {}
    used: set[str] = set()
    for _ in range(MAX_PAGES):
        body = get(params)
        page = parse(action, lambda: list(map(branch_from, body["branches"])))  # noqa: B023 - called at once
        for branch in page:
            found.setdefault(branch.id, branch)
        cursor = parse(action, lambda: _cursor(body))  # noqa: B023 - called at once
        # Some servers hand out a cursor on the last page too: an empty page ends it.
        if not page or not cursor or cursor in used:
            return list(found.values())
        used.add(cursor)
        params = {**params, "cursor": cursor}
    raise ApiError(SERVICE, action, f"more than {MAX_PAGES} pages of branches; giving up")


def _cursor(body: Json) -> str | None:
    pagination = body.get("pagination")
    if pagination is None:
        return None
    if not isinstance(pagination, dict):
        raise TypeError(f"pagination is {type(pagination).__name__}, not an object")
    cursor = pagination.get("next")
    if cursor is not None and not isinstance(cursor, str):
        raise TypeError(f"pagination.next is {type(cursor).__name__}, not a string")
    return cursor


def hint(status: int, project: str, branch_id: str | None, role: str | None) -> str | None:
    """What the user can do about an error status, given what the request was about."""
    if status == 401:
        return "Check NEON_API_KEY: it must be a valid Neon API key (Neon console, API keys)"
    if status == 403:
        return f"The key in NEON_API_KEY has no access to project {project}"
    if status == 404 and role:
        return f"Check that role {role!r} exists on branch {branch_id} of project {project}"
    if status == 404 and branch_id:
        return f"Check project_id ({project}) and that branch {branch_id} still exists"
    if status == 404:
        return f"Check project_id: no project {project} is visible to this API key"
    if status == 412:
        return (
            f"Project {project} does not store role passwords, so Neon cannot reveal them; "
            "reset the role's password or use a project that stores passwords"
        )
    if status in {423, 429, 503}:
        return "Neon is busy or rate-limiting this key (700 requests a minute); try again later"
    return None


def wait_for(
    operations: list[Any],
    poll: Callable[[str], Json],
    sleep: Callable[[float], None],
    *,
    action: str,
    timeout: float,
) -> None:
    """Poll the unfinished operations (all of them each round) until every one finishes.
    Raise ApiError when one fails, or after `timeout` seconds of sleeping in all."""
    pending: dict[str, Json] = {str(op.get("id")): op for op in operations}
    waited, delay = 0.0, 0.5
    while True:
        for op_id, op in list(pending.items()):
            status = op.get("status")
            if status in _DONE:
                del pending[op_id]
            elif status in _FAILED:
                detail = op.get("error") or "no details given"
                raise ApiError(
                    SERVICE,
                    action,
                    f"operation {op.get('action')} ({op_id}) {status}: {detail}",
                    hint="See the project's operations in the Neon console",
                )
        if not pending:
            return
        if waited >= timeout:
            late = ", ".join(f"{op.get('action')} ({op_id})" for op_id, op in pending.items())
            raise ApiError(
                SERVICE,
                action,
                f"operations still running after {waited:.0f}s: {late}",
                hint="They may still finish; check the project in the Neon console",
            )
        sleep(delay)
        waited += delay
        delay = min(delay * 2, 5.0)
        for op_id in pending:
            pending[op_id] = poll(op_id)
