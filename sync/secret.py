"""A string that must never be printed: repr and str show only its masked form."""

from __future__ import annotations

import threading
from collections.abc import Callable
from urllib.parse import quote

MASK = "****"


class Secret:
    __slots__ = ("_value", "masked")

    def __init__(self, value: str, masked: str | None = None) -> None:
        self._value = value
        self.masked = MASK if masked is None else masked
        if masked is None:
            # A raw secret (password, token): scrub it from all output. A derived value with
            # its own masked form (a URI) holds a raw secret that is remembered already.
            remember(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self.masked!r})"

    def __str__(self) -> str:
        return self.masked

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


# Every sensitive string seen in this process (passwords, tokens). Output goes through
# scrub() as a last line of defence, so a value that slips into an error message is masked.
_known: set[str] = set()
_lock = threading.Lock()
_listeners: list[Callable[[str], None]] = []


def remember(value: str) -> None:
    if len(value) < 4:  # too short to mask without mangling ordinary text
        return
    forms = {value, quote(value, safe="")}  # as typed, and as it stands inside a URI
    with _lock:
        new = forms - _known
        _known.update(new)
        listeners = list(_listeners)
    for form in sorted(new):
        for listener in listeners:
            listener(form)


def on_new_secret(listener: Callable[[str], None]) -> None:
    """Call listener for every secret remembered from now on (and those already known).
    GitHub Actions masking (`::add-mask::`) hooks in here."""
    with _lock:
        _listeners.append(listener)
        known = sorted(_known)
    for value in known:
        listener(value)


def scrub(text: str) -> str:
    with _lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    return text
