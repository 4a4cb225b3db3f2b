"""What neon-sync wrote, without the values: a keyed fingerprint, the Neon branch that owns the
key and the service's change marker, per (target, scope, key).

Fingerprints are HMAC-SHA256 keyed with NEON_SYNC_STATE_KEY, else NEON_API_KEY: a secret the
run already has, so the state document reveals nothing about the values even where others can
read it (a GitHub repository variable). Rotating that key makes every write-only value
`unknown` once, and the next sync rewrites them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from neon_sync import fileio
from neon_sync.errors import StateError
from neon_sync.lock import Busy, locked
from neon_sync.providers.base import Scope

VERSION = 1


class BadState(StateError):
    """A state document neon-sync cannot read: bad input, like a broken config (exit 2)."""

    exit_code = 2

    def __init__(self, problem: str) -> None:
        super().__init__(
            f"{problem}; it was not written by this neon-sync. Move it aside (neon-sync "
            "then treats write-only values as unknown once and rewrites them) and re-run"
        )


@dataclass(frozen=True)
class Record:
    fingerprint: str
    branch: str
    marker: str | None = None  # the service's updated_at when we wrote it
    options: Mapping[str, Any] = field(default_factory=dict)  # to reach the scope again (prune)
    # Whose write this was: the Neon project and the config (its path relative to the state
    # file), so that a prune never touches keys another project or config wrote.
    project: str = ""
    config: str = ""


def _key(target: str, scope_id: str, key: str) -> str:
    return f"{target}\x1f{scope_id}\x1f{key}"


class State:
    def __init__(
        self,
        secret: bytes,
        records: dict[str, Record] | None = None,
        owner: tuple[str, str] = ("", ""),
    ) -> None:
        self._secret = secret
        self._records = records or {}
        self._edits: dict[str, Record | None] = {}  # this run's puts, and drops (None)
        self.owner = owner  # (Neon project id, config identity) of this run

    @property
    def changed(self) -> bool:
        return bool(self._edits)

    @classmethod
    def from_document(
        cls,
        secret: bytes,
        document: Mapping[str, Any] | None,
        owner: tuple[str, str] = ("", ""),
    ) -> State:
        """Records of a document; those written before records named their project and
        config (neon-sync 0.1) are taken to be `owner`'s, which they were."""
        if not document:
            return cls(secret, owner=owner)
        if not isinstance(document, Mapping):
            raise BadState("the state document is not a JSON object")
        if document.get("version") != VERSION or not isinstance(document.get("records"), list):
            raise BadState("the state document has an unknown format")
        records = {}
        try:
            for row in document["records"]:
                target, scope_id, key = row["target"], row["scope"], row["key"]
                records[_key(target, scope_id, key)] = Record(
                    row["fingerprint"],
                    row["branch"],
                    row.get("marker"),
                    row.get("options", {}),
                    row.get("project") or owner[0],
                    row.get("config") or owner[1],
                )
        except (KeyError, TypeError, AttributeError):
            raise BadState("the state document has records of the wrong shape") from None
        return cls(secret, records, owner)

    def document(self) -> dict[str, Any]:
        rows = []
        for composite, record in sorted(self._records.items()):
            target, scope_id, key = composite.split("\x1f")
            rows.append({"target": target, "scope": scope_id, "key": key, **asdict(record)})
        return {"version": VERSION, "records": rows}

    def fingerprint(self, scope: Scope, key: str, value: str) -> str:
        message = "\x00".join((scope.target, scope.id, key, value)).encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:32]

    def get(self, scope: Scope, key: str) -> Record | None:
        return self._records.get(_key(scope.target, scope.id, key))

    def put(self, scope: Scope, key: str, record: Record) -> None:
        record = replace(record, project=self.owner[0], config=self.owner[1])
        composite = _key(scope.target, scope.id, key)
        if self._records.get(composite) != record:
            self._records[composite] = self._edits[composite] = record

    def drop(self, scope: Scope, key: str) -> None:
        composite = _key(scope.target, scope.id, key)
        if self._records.pop(composite, None) is not None:
            self._edits[composite] = None

    def rebase(self, latest: State) -> State:
        """This run's edits on top of `latest` (the store as it is now): two runs that save
        at nearly the same time (two pull requests' jobs) keep each other's records."""
        records = dict(latest._records)
        for composite, record in self._edits.items():
            if record is None:
                records.pop(composite, None)
            else:
                records[composite] = record
        rebased = State(self._secret, records, self.owner)
        rebased._edits = dict(self._edits)  # still this run's: a second merge needs them
        return rebased

    def saved(self) -> None:
        """The store holds this run's edits now: later saves start from none."""
        self._edits = {}

    def owned(self) -> Iterator[tuple[Scope, str, Record]]:
        """Every (scope, key) this project and config have written, with its record."""
        for composite, record in sorted(self._records.items()):
            if (record.project, record.config) != self.owner:
                continue
            target, scope_id, key = composite.split("\x1f")
            yield Scope(target, scope_id, dict(record.options)), key, record

    def others(self) -> set[str]:
        """The Neon projects other records were written for (their keys are never pruned)."""
        return {r.project for r in self._records.values() if r.project != self.owner[0]}


def config_identity(config_path: Path, state_path: Path) -> str:
    """The config as the state knows it: its path relative to the state file's folder, so a
    project folder that moves (or a CI checkout elsewhere) keeps its records."""
    return Path(os.path.relpath(config_path.resolve(), state_path.resolve().parent)).as_posix()


def state_secret(env: Mapping[str, str]) -> bytes:
    secret = env.get("NEON_SYNC_STATE_KEY") or env.get("NEON_API_KEY") or ""
    return secret.encode()


class FileStore:
    """The default store: a JSON file (`.neon-sync/state.json` beside the config), written
    atomically, mode 0600, in a folder that ignores itself in git."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any] | None:
        fileio.remove_stale_temps(self.path)
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"cannot read state file {self.path}: {exc.strerror}") from None
        try:
            document = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise BadState(f"state file {self.path} is not UTF-8 text") from None
        except ValueError:
            raise BadState(f"state file {self.path} is not valid JSON") from None
        if not isinstance(document, dict):
            raise BadState(f"state file {self.path} does not hold a JSON object")
        return document

    def update(self, merge: Callable[[dict[str, Any] | None], dict[str, Any]]) -> None:
        """Load, merge and save under an OS lock: a concurrent run waits its turn, then
        merges onto what this one saved."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with locked(self.path):
                self.save(merge(self.load()))
        except Busy as exc:
            raise StateError(str(exc)) from None
        except OSError as exc:
            raise StateError(f"cannot lock state file {self.path}: {exc.strerror}") from None

    def save(self, document: dict[str, Any]) -> None:
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            if folder.name == ".neon-sync":
                fileio.ignore_in_git(folder)
            data = json.dumps(document, indent=1, sort_keys=True) + "\n"
            fileio.atomic_write(self.path, data.encode("utf-8"), fileio.NEW_FILE_MODE)
        except OSError as exc:
            raise StateError(f"cannot write state file {self.path}: {exc.strerror}") from None

    def close(self) -> None:
        return None
