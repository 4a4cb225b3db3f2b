"""The one exception tree of neon-sync.

    NeonSyncError            exit 1 unless said otherwise
    ├── ConfigError          exit 2: the config file, an option or an argument is wrong
    ├── ApiError             exit 1: an HTTP API failed (after retries) or refused
    ├── ProviderError        exit 1: a target could not be read or written
    └── StateError           exit 1: the state store could not be read or written

Only the CLI turns these into messages and exit codes. Messages are one line, say what
failed and what to do, and never contain a secret.
"""

from __future__ import annotations

from collections.abc import Mapping


class NeonSyncError(Exception):
    exit_code = 1


class ConfigError(NeonSyncError):
    """Bad input: config file, option or argument. `where` is "file:line:col" when known."""

    exit_code = 2

    def __init__(self, message: str, where: str | None = None) -> None:
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class ApiError(NeonSyncError):
    """An HTTP API call failed for good: status (None for network errors), what we were doing,
    the service's own message and request id."""

    def __init__(
        self,
        service: str,
        action: str,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        hint: str | None = None,
        code: str | None = None,
    ) -> None:
        self.service = service
        self.action = action
        self.status = status
        self.request_id = request_id
        self.code = code
        self.hint = hint
        self.detail = message
        head = f"{service} API: {action} failed"
        if status is not None:
            head += f" ({status})"
        text = f"{head}: {message}"
        if hint:
            text += f". {hint}"
        if request_id:
            text += f" [request_id {request_id}]"
        super().__init__(text)


class ProviderError(NeonSyncError):
    """A target failed. `done` maps keys that were written before the failure to their
    change markers, so the engine can still record them."""

    def __init__(self, message: str, done: Mapping[str, str | None] | None = None) -> None:
        self.done: Mapping[str, str | None] = dict(done or {})
        super().__init__(message)


class StateError(NeonSyncError):
    pass
