"""A string that must never be printed: repr and str show only its masked form."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from urllib.parse import quote, quote_plus

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


class _Registry:
    """Every sensitive string seen in this process (passwords, tokens). Output goes through
    scrub() as a last line of defence, so a value that slips into a message is masked."""

    def __init__(self) -> None:
        self.known: set[str] = set()
        self.remembered: set[str] = set()  # the values themselves, whose forms are all known
        self.pattern: re.Pattern[str] | None = None  # all of `known`, longest first
        self.listeners: list[Callable[[str], None]] = []
        self.lock = threading.Lock()

    def add(self, forms: set[str]) -> None:
        with self.lock:
            new = forms - self.known
            if new:
                self.known |= new
                self.pattern = None
            listeners = list(self.listeners)
        for form in sorted(new):
            for listener in listeners:
                listener(form)

    def listen(self, listener: Callable[[str], None]) -> None:
        with self.lock:
            self.listeners.append(listener)
            known = sorted(self.known)
        for value in known:
            listener(value)

    def scrub(self, text: str) -> str:
        with self.lock:
            if not self.known:
                return text
            if self.pattern is None:
                ordered = sorted(self.known, key=len, reverse=True)
                self.pattern = re.compile("|".join(map(re.escape, ordered)))
            pattern = self.pattern
        # One pass: a mask already put in is never matched again, so overlapping secrets
        # cannot mangle the result.
        return pattern.sub(MASK, text)


_registry = _Registry()


def forms(value: str) -> set[str]:
    """Every way `value` can show up in output: as typed, URL-encoded (in a URI path, query
    or form body) and JSON-escaped (in an API error body that echoes it, `"` and `\\`
    escaped, non-ASCII as is or as \\u escapes, `/` as is or as `\\/`)."""
    encoded = {value, quote(value, safe=""), quote(value), quote_plus(value)}
    escaped = {json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    escaped |= {form.replace("/", "\\/") for form in escaped}
    return encoded | escaped | {repr(value)[1:-1]}  # as a Python repr shows it


def remember(value: str) -> None:
    # Called for every string built from a password: the forms are worked out once per value.
    if len(value) < 4 or value in _registry.remembered:  # too short: would mangle text
        return
    _registry.add(forms(value))
    _registry.remembered.add(value)


def on_new_secret(listener: Callable[[str], None]) -> None:
    """Call listener for every secret remembered from now on (and those already known).
    GitHub Actions masking (`::add-mask::`) hooks in here."""
    _registry.listen(listener)


def scrub(text: str) -> str:
    """`text` with every known secret masked."""
    return _registry.scrub(text)
