"""Vercel's env var rules, shared by the emulator's handlers: validation, overlap, rendering."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import httpx

TARGETS = ("production", "preview", "development")
TYPES = ("encrypted", "sensitive", "plain")


class Refused(Exception):
    """An API error to answer with; raised deep inside a handler."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra

    def body(self, **more: Any) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, **self.extra, **more}}


def parse_json(request: httpx.Request) -> Any:
    try:
        return json.loads(request.content or b"null")
    except ValueError:
        raise Refused(400, "bad_request", "Invalid JSON body") from None


def validate(item: Any) -> dict[str, Any]:
    """Vercel's schema rules for one NEW/PATCH body; a violation refuses the whole request."""
    if not isinstance(item, dict):
        raise Refused(400, "bad_request", "Invalid request: each item must be an object")
    key, value, kind = item.get("key"), item.get("value"), item.get("type", "encrypted")
    target, branch = item.get("target"), item.get("gitBranch")
    if not isinstance(key, str) or not key or not isinstance(value, str):
        raise Refused(400, "bad_request", "Invalid request: `key` and `value` are required")
    if kind not in TYPES:
        raise Refused(400, "bad_request", f"Invalid request: `type` must be one of {TYPES}")
    if not isinstance(target, list) or not target or any(t not in TARGETS for t in target):
        raise Refused(
            400, "bad_request", f"Invalid request: `target` must be a subset of {TARGETS}"
        )
    if branch and target != ["preview"]:
        raise Refused(400, "bad_request", "A Git branch can only be set for the preview target")
    if kind == "sensitive" and "development" in target:
        raise Refused(400, "bad_request", "Sensitive variables cannot target development")
    comment = item.get("comment")
    if comment is not None and (not isinstance(comment, str) or len(comment) > 500):
        raise Refused(400, "bad_request", "Invalid request: `comment` must be at most 500 chars")
    return {**item, "type": kind, "target": list(target), "gitBranch": branch or None}


def overlaps(record: dict[str, Any], item: dict[str, Any]) -> bool:
    return (
        record["key"] == item["key"]
        and record.get("gitBranch") == item.get("gitBranch")
        and bool(set(record["target"]) & set(item["target"]))
    )


def exists_message(item: dict[str, Any]) -> str:
    where = f" on branch {item['gitBranch']}" if item.get("gitBranch") else ""
    return (
        f"A variable with the name `{item['key']}` already exists for the target "
        f"{','.join(item['target'])}{where}"
    )


def conflict_message(item: dict[str, Any]) -> str:
    return (
        f"The environment variable `{item['key']}` already exists with a different target "
        f"than {','.join(item['target'])}"
    )


def render(record: dict[str, Any], decrypt: bool) -> dict[str, Any]:
    """A variable as the API shows it: sensitive values never, encrypted ones on request."""
    # Vercel lists security findings per variable (none here); its SDK requires the field.
    out = {**record, "securityIssues": []}
    if record["type"] == "sensitive":
        out.update(value="", decrypted=False)
    elif record["type"] == "encrypted" and not decrypt:
        digest = hashlib.sha256(f"{record['id']}:{record['value']}".encode()).digest()
        out.update(
            value="eyJ2IjoidjIiLCJjIjoi" + base64.b64encode(digest).decode(), decrypted=False
        )
    else:
        out["decrypted"] = record["type"] == "encrypted"
    return out
