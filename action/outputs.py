"""The action's outputs, for $GITHUB_OUTPUT: `changes` and `branch_id` from the command's JSON
document; `created` from `branch create`'s; and, from a `url --json` document (the `url`
command's, or the one run.sh asks for after `branch create`), the outputs Neon's
create-branch-action has: db_url, db_url_pooled, db_host, db_host_pooled, password. Every
secret-bearing one is masked (`::add-mask::`, on stderr, which the runner reads) first.

    python outputs.py COMMAND_STDOUT CONNECTION_JSON COMMAND >> "$GITHUB_OUTPUT"
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit


def document(path: str) -> dict[str, Any] | None:
    """The JSON document in a file; workflow commands (`::...`) on their own lines are skipped.
    None when there is none (a usage or config error printed no document)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return None
    lines = [line for line in text.splitlines() if not line.startswith("::")]
    try:
        doc = json.loads("\n".join(lines))
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def connection_outputs(doc: dict[str, Any]) -> dict[str, str]:
    url, host, pooled_host = str(doc["url"]), str(doc["host"]), str(doc["pooled_host"])
    # One string from Neon; the other differs only in its host (the `-pooler` one).
    if doc.get("pooled"):
        pooled, direct = url, url.replace(pooled_host, host, 1)
    else:
        pooled, direct = url.replace(host, pooled_host, 1), url
    password = urlsplit(direct).password
    return {
        "db_url": direct,
        "db_url_pooled": pooled,
        "db_host": host,
        "db_host_pooled": pooled_host,
        "password": unquote(password) if password else "",
    }


def main(stdout: str, connection: str, command: str) -> None:
    outputs: dict[str, str] = {}
    doc = document(stdout)
    if doc is not None and command != "url":
        branch = doc.get("branch") or {}
        outputs["branch_id"] = str(branch.get("id") or "")
        if "changes" in doc:
            outputs["changes"] = json.dumps(doc["changes"], separators=(",", ":"))
        if command == "branch create" and "created" in branch:
            outputs["created"] = "true" if branch["created"] else "false"
    found = document(connection)
    if found is not None and "url" in found:
        made = connection_outputs(found)
        for name in ("db_url", "db_url_pooled", "password", "db_host", "db_host_pooled"):
            if made[name]:
                print(f"::add-mask::{made[name]}", file=sys.stderr, flush=True)
        outputs.update(made)
        if command == "url":
            outputs["url"] = str(found["url"])
        outputs.setdefault("branch_id", str(found.get("branch_id") or ""))
    for name, value in outputs.items():
        # The delimiter form is safe for any value, newlines included.
        delimiter = f"ghadelimiter_{uuid.uuid4()}"
        print(f"{name}<<{delimiter}\n{value}\n{delimiter}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
