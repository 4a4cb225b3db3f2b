"""The dotenv provider: keys in a local .env file, edited in place.

Values are read with python-dotenv itself, so what the engine sees is what dotenv consumers
get. Writes touch only the entries of the keys written: every other byte of the file (comments,
blank lines, order, quoting, line endings) stays as it was, and the file is replaced atomically.
"""

from __future__ import annotations

import io
import os
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values
from dotenv.main import resolve_variables
from dotenv.parser import parse_stream

from neon_sync import fileio
from neon_sync.envname import RULE, is_env_name
from neon_sync.errors import ConfigError, ProviderError
from neon_sync.lock import Busy, locked
from neon_sync.providers.base import (
    BaseProvider,
    Context,
    Current,
    Desired,
    Options,
    Scope,
    Write,
)

OPTIONS = frozenset({"path"})

# Characters that mean the same bare in python-dotenv and in a shell assignment.
_SAFE = re.compile(r"[A-Za-z0-9_./:@%+,=-]*")
# python-dotenv expands ${NAME} and ${NAME:-default} in every value, quoted or not.
_INTERPOLATION = re.compile(r"\$\{[^}:]*(?::-[^}]*)?\}")
# Expands to a literal "$" under dotenv: no environment variable and no .env key has an empty
# name. Bash rejects it, so values that need it cannot be sourced by a shell.
_DOLLAR = "${:-$}"
_NEWLINE = re.compile(r"\r\n|\n|\r")
_BOM = "\ufeff"

# Mirrors python-dotenv's parser (dotenv/parser.py) to find the parts of an entry it has
# already parsed: indent, `export `, key, `=`; then the value's extent.
_HEAD = re.compile(
    r"(?P<indent>[^\S\r\n]*)(?P<export>export[^\S\r\n]+)?(?:'[^']+'|[^=\#\s]+)[^\S\r\n]*"
    r"(?P<eq>=[^\S\r\n]*)?"
)
_QUOTED = {
    "'": re.compile(r"'(?:\\.|[^'\\])*'", re.DOTALL),
    '"': re.compile(r'"(?:\\.|[^"\\])*"', re.DOTALL),
}


def encode(value: str) -> str:
    """The text after `KEY=` that python-dotenv reads back as exactly `value` (interpolation
    on or off), and that bash's `source` reads the same where the value allows: bare when
    safe, else single-quoted (literal in both), else double-quoted with escapes."""
    if _INTERPOLATION.search(value):
        value = value.replace("${", _DOLLAR + "{")
    if _SAFE.fullmatch(value):
        return value
    # dotenv decodes \\ and \' inside single quotes and a trailing \ escapes the closing quote;
    # CR would become LF on read (universal newlines); keep every entry on one line.
    if not re.search(r"['\r\n]|\\\\|\\\Z", value):
        return f"'{value}'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n").replace("\r", "\\r") + '"'


@dataclass(frozen=True)
class _Chunk:
    lead: str  # blank lines before the entry, kept even when the entry goes
    body: str  # the entry itself, with its line ending; "" once deleted
    key: str | None  # None: a comment, blank space or a line dotenv cannot parse


def _chunks(text: str) -> list[_Chunk]:
    # dotenv's own parser, on the raw text (no newline translation), splits the file into
    # consecutive pieces that join back to exactly the text.
    chunks = []
    for binding in parse_stream(io.StringIO(text, newline="")):
        original = binding.original.string
        if binding.key is None or binding.error:
            chunks.append(_Chunk("", original, None))
            continue
        space = re.match(r"\s*", original)
        prefix = space.group() if space else ""
        cut = max(prefix.rfind("\n"), prefix.rfind("\r")) + 1
        chunks.append(_Chunk(original[:cut], original[cut:], binding.key))
    return chunks


def _rewrite(body: str, key: str, encoded: str) -> str:
    """The entry `body` holding the new value: keeps its indent, `export ` prefix, inline
    comment and line ending."""
    head = _HEAD.match(body)
    assert head is not None, "dotenv parsed this entry, so its head matches"
    start = end = head.end()
    eq = head["eq"]
    if eq is not None:
        first = body[start : start + 1]
        if first in _QUOTED:
            quoted = _QUOTED[first].match(body, start)
            end = quoted.end() if quoted else start
        elif not (len(eq) > 1 and first == "#"):  # `KEY= # note` has an empty value
            newline = _NEWLINE.search(body, start)
            line = body[start : newline.start() if newline else len(body)]
            comment = re.search(r"\s+#", line)
            end = start + len(line[: comment.start() if comment else len(line)].rstrip())
    tail = body[end:]
    # An unquoted value runs into a `#` unless whitespace separates them.
    gap = " " if tail.startswith("#") else ""
    return f"{head['indent']}{head['export'] or ''}{key}={encoded}{gap}{tail}"


class UnsafeEdit(Exception):
    """The edited text would not read back as intended (a malformed neighbour swallowing it)."""


def _values(text: str, interpolate: bool) -> dict[str, str | None]:
    # What dotenv_values() does with a file's text (DotEnv.dict), minus its log warnings.
    pairs = [
        (binding.key, binding.value)
        for binding in parse_stream(io.StringIO(text, newline=None))
        if binding.key is not None
    ]
    return dict(resolve_variables(pairs, override=True) if interpolate else pairs)


def _check(old: str, new: str, changes: Mapping[str, str | None]) -> None:
    # The edit is proven by re-reading it as dotenv consumers will: written keys hold exactly
    # their values (deleted ones are gone) and every other key keeps its raw value.
    after = _values(new, interpolate=True)
    for key, value in changes.items():
        if (after.get(key) != value) if value is not None else (key in after):
            raise UnsafeEdit(key)
    before, raw = _values(old, interpolate=False), _values(new, interpolate=False)
    for key in before.keys() | raw.keys():
        if key not in changes and (key in before, before.get(key)) != (key in raw, raw.get(key)):
            raise UnsafeEdit(key)


def edit(text: str, changes: Mapping[str, str | None]) -> str:
    """`text` with each key of `changes` set to its value, or removed when None. Raises
    UnsafeEdit (naming a key) if the file is too malformed around it to edit safely.

    An existing key is updated in place at its last occurrence (the one dotenv uses); earlier
    duplicates stay, since removing them could change what later `${KEY}` references expand
    to. A delete removes every occurrence, or an earlier one would come back into effect.
    New keys are appended in the order given."""
    chunks = _chunks(text)
    appended = []
    for key, value in changes.items():
        where = [i for i, chunk in enumerate(chunks) if chunk.key == key]
        if value is None:
            for i in where:
                chunks[i] = _Chunk(chunks[i].lead, "", key)
        elif where:
            last = chunks[where[-1]]
            chunks[where[-1]] = _Chunk(last.lead, _rewrite(last.body, key, encode(value)), key)
        else:
            appended.append(f"{key}={encode(value)}")
    out = "".join(chunk.lead + chunk.body for chunk in chunks)
    if appended:
        first = _NEWLINE.search(text)
        newline = first.group() if first else "\n"
        if out and not out.endswith(("\n", "\r")):
            out += newline
        out += "".join(line + newline for line in appended)
    _check(text, out, changes)
    return out


class DotenvProvider(BaseProvider):
    name = "dotenv"

    def __init__(self, context: Context) -> None:
        super().__init__()
        self.context = context

    def scope(self, target: str, options: Options) -> Scope:
        path = options.get("path")
        if not isinstance(path, str) or not path:
            raise ConfigError(
                f"target {target!r}: option 'path' must be a non-empty string "
                "(the .env file to write, relative to the config file's folder)"
            )
        # Kept as written (relative to the config's folder): the state records it, and a
        # project folder that moves, or a CI checkout elsewhere, must find it again.
        return Scope(target=target, id=path, options={"path": path})

    def _full(self, scope: Scope) -> str:
        return os.path.abspath(self.context.base_dir / str(scope.options["path"]))

    def check_key(self, scope: Scope, desired: Desired) -> None:
        if not is_env_name(desired.key):
            raise ConfigError(
                f"target {scope.target!r}: {desired.key!r} is not a valid environment variable"
                f" name; {RULE}"
            )
        if "\0" in desired.value.reveal():
            raise ConfigError(
                f"target {scope.target!r}: the value for {desired.key} contains a NUL character, "
                "which an environment variable cannot hold"
            )

    def read(self, scopes: Sequence[Scope]) -> Mapping[Scope, Mapping[str, Current]]:
        found: dict[Scope, Mapping[str, Current]] = {}
        for scope in scopes:
            path = self._full(scope)
            if os.path.isdir(path):
                raise ProviderError(f"{path} is a folder; fix the path in {scope.target}")
            fileio.remove_stale_temps(Path(path))
            try:
                values = dotenv_values(path)
            except OSError as exc:
                raise ProviderError(f"cannot read {path}: {exc.strerror}") from None
            except UnicodeDecodeError:
                raise ProviderError(f"cannot read {path}: it is not UTF-8 text") from None
            # A bare `KEY` line holds no value (dotenv consumers do not set it): not reported,
            # so the engine creates the key, which apply writes in that line's place.
            found[scope] = {
                key: Current(key, value) for key, value in values.items() if value is not None
            }
        return found

    def apply(self, scope: Scope, writes: Sequence[Write]) -> Mapping[str, str | None]:
        path = Path(os.path.realpath(self._full(scope)))  # write through a symlink
        if not path.parent.is_dir():
            raise ProviderError(
                f"folder {path.parent} does not exist; create it or fix the path in {scope.target}"
            )
        changes: dict[str, str | None] = {}
        for write in writes:
            if not is_env_name(write.key):  # never let a key corrupt the file
                raise ConfigError(f"{write.key!r} is not a valid environment variable name")
            if write.action == "delete":
                changes[write.key] = None
            elif write.desired is None:
                raise ProviderError(f"{write.key}: {write.action} without a value")
            else:
                changes[write.key] = write.desired.value.reveal()
        try:
            fileio.check_writable(path)  # before any work: the user said "don't touch"
            # Read, edit and replace under the file's lock: a concurrent run's edit of
            # other keys lands before or after ours, never lost in between.
            with locked(path):
                _edit_file(path, changes)
        except (Busy, fileio.ReadOnlyFile) as exc:
            raise ProviderError(str(exc)) from None
        except OSError as exc:
            raise ProviderError(f"cannot write {path}: {exc.strerror}") from None
        return {key: None for key in changes}


def _edit_file(path: Path, changes: Mapping[str, str | None]) -> None:
    """Rewrite the keys of `changes` in the file at `path`, every other byte kept."""
    try:
        raw = path.read_bytes()
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        raw, mode = b"", fileio.NEW_FILE_MODE
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProviderError(f"{path} is not UTF-8 text; neon-sync will not rewrite it") from None
    bom = _BOM if text.startswith(_BOM) else ""
    try:
        new_text = bom + edit(text.removeprefix(bom), changes)
    except UnsafeEdit as exc:
        raise ProviderError(
            f"{path} is malformed near {exc}: python-dotenv would not read the edit as"
            " intended; fix that part of the file by hand"
        ) from None
    fileio.atomic_write(path, new_text.encode("utf-8"), mode)


def create(context: Context) -> DotenvProvider:
    return DotenvProvider(context)
