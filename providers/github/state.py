"""neon-sync's state document kept as one Actions variable beside the secrets it describes.

In CI the local state file is gone between runs; without state every write-only secret is
`unknown` and would be rewritten each run. The document holds only HMAC fingerprints keyed
with a secret the run already has (the engine's business), so a variable, readable by anyone
who can read the repository's settings, reveals no values. The trade-off: whoever can write
variables can also edit or delete the state, which makes neon-sync rewrite (never skip) its
secrets on the next run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from neon_sync.errors import ApiError, StateError
from neon_sync.providers.github.api import GitHubApi, status_in
from neon_sync.providers.github.names import MAX_VALUE_BYTES, canonical
from neon_sync.providers.github.scope import Holder

DEFAULT_VARIABLE = "NEON_SYNC_STATE"


def variable_name(options: Mapping[str, Any]) -> str:
    """The variable that holds the state, as GitHub stores it (`state_variable`, default
    NEON_SYNC_STATE): hidden from reads and refused as a key, whatever case the config uses."""
    return canonical(str(options.get("state_variable") or DEFAULT_VARIABLE))


MAX_MERGES = 5


class VariableStateStore:
    """`load`/`save` of the engine's StateStore protocol, on a repository variable (an
    environment target keeps it in its repository) or an organisation variable visible to no
    repository's workflows."""

    def __init__(self, api: GitHubApi, holder: Holder, name: str) -> None:
        self._api = api
        self._where = replace(holder, kind="repo") if holder.kind == "env" else holder
        self.name = name
        self._exists: bool | None = None

    @property
    def _label(self) -> str:
        return f"variable {self.name} of {self._where.label}"

    def load(self) -> dict[str, Any] | None:
        try:
            response = self._api.request(
                "GET",
                f"{self._where.prefix}/variables/{self.name}",
                self._where,
                f"read neon-sync state from {self._label}",
                ok=status_in(200, 404),
            )
        except ApiError as exc:
            raise StateError(str(exc)) from None
        self._exists = response.status_code == 200
        if not self._exists:
            return None
        try:
            document = json.loads(response.json()["value"])
        except (ValueError, KeyError, TypeError):
            document = None
        if not isinstance(document, dict):
            raise StateError(
                f"{self._label} does not hold neon-sync state JSON; delete it and re-run"
            )
        return document

    def save(self, document: dict[str, Any]) -> None:
        text = json.dumps(document, separators=(",", ":"), sort_keys=True)
        size = len(text.encode("utf-8"))
        if size > MAX_VALUE_BYTES:
            raise StateError(
                f"neon-sync state is {size} bytes, over GitHub's 48 KB limit for "
                f"{self._label}: keep state in a file instead, or sync fewer keys per target"
            )
        body: dict[str, Any] = {"name": self.name, "value": text}
        if self._where.kind == "org":
            body.update(visibility="selected", selected_repository_ids=[])
        try:
            self._write(body)
        except ApiError as exc:
            raise StateError(str(exc)) from None
        self._exists = True

    def _write(self, body: dict[str, Any]) -> None:
        action = f"save neon-sync state to {self._label}"
        self._api.put_variable(self._where, self.name, body, action, self._exists)

    def update(self, merge: Callable[[dict[str, Any] | None], dict[str, Any]]) -> None:
        """Save `merge(what the variable holds now)`, then read it back: if another run's
        save landed in between, merge onto that and save again (bounded), so concurrent CI
        jobs keep each other's records."""
        for _ in range(MAX_MERGES):
            document = merge(self.load())
            self.save(document)
            if self.load() == document:
                return
        raise StateError(
            f"{self._label} kept changing under concurrent runs ({MAX_MERGES} saves); "
            "re-run to record this run's writes"
        )

    def close(self) -> None:
        self._api.close()
