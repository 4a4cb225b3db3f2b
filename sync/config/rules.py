"""Branch matching (exact, glob, captures, default) and `{placeholder}` templates."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field

from neon_sync.errors import ConfigError

# Placeholders every value template may use, filled from Neon facts per var.
VALUE_FIELDS = frozenset(
    {
        "host",
        "pooled_host",
        "port",
        "role",
        "password",
        "database",
        "endpoint_id",
        "branch",
        "branch_id",
        "project_id",
        "pooled_url",
        "direct_url",
        "sslmode",
    }
)
# Placeholders the options of a sync item may use, besides the captures of its match.
BRANCH_FIELDS = frozenset({"branch", "branch_id"})

_CAPTURE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Matcher:
    """`pattern` is an exact name, a glob (`*` within a path segment, `**` across, `?`),
    or has `{captures}` (each matching one or more characters, `/` included).
    `default` matches the project's default branch."""

    pattern: str | None
    default: bool = False
    captures: tuple[str, ...] = ()
    _regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def parse(cls, pattern: str | None, default: bool, where: str) -> Matcher:
        if pattern is None:
            return cls(None, default=default)
        captures = tuple(_CAPTURE.findall(pattern))
        clash = sorted(set(captures) & (VALUE_FIELDS | {"branch", "branch_id"}))
        if clash:
            raise ConfigError(
                f"capture {{{clash[0]}}} reuses a built-in placeholder name; rename it", where
            )
        if len(set(captures)) != len(captures):
            raise ConfigError(f"a capture appears twice in match {pattern!r}", where)
        if not captures and not any(c in pattern for c in "*?"):
            return cls(pattern, default=default)
        return cls(pattern, default, captures, _compile(pattern))

    def match(self, name: str, is_default: bool) -> dict[str, str] | None:
        """The captures if `name` matches, else None."""
        if self.default and is_default:
            return {}
        if self.pattern is None:
            return None
        if self._regex is None:
            return {} if name == self.pattern else None
        found = self._regex.fullmatch(name)
        return found.groupdict() if found else None

    def describe(self) -> str:
        if self.pattern is None:
            return "default: true"
        return self.pattern + (" (or the default branch)" if self.default else "")


def _compile(pattern: str) -> re.Pattern[str]:
    out = []
    for token in re.split(r"(\{[A-Za-z_][A-Za-z0-9_]*\}|\*\*|\*|\?)", pattern):
        if token == "**":
            out.append(".*")
        elif token == "*":
            out.append("[^/]*")
        elif token == "?":
            out.append("[^/]")
        elif _CAPTURE.fullmatch(token):  # not any braced text: `{}` is literal
            out.append(f"(?P<{token[1:-1]}>.+?)")
        else:
            out.append(re.escape(token))
    return re.compile("".join(out))


def fields_of(template: str, where: str) -> set[str]:
    """The placeholder names in a template; `{{` and `}}` are literal braces."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ConfigError(
            f"bad template {template!r}: {exc}; write {{{{ for a literal {{", where
        ) from None
    names = set()
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ConfigError(f"bad placeholder {{{name}}} in {template!r}", where)
        names.add(name)
    return names


def check_template(template: str, allowed: frozenset[str] | set[str], where: str) -> None:
    unknown = sorted(fields_of(template, where) - set(allowed))
    if unknown:
        known = ", ".join("{" + n + "}" for n in sorted(allowed))
        raise ConfigError(f"unknown placeholder {{{unknown[0]}}}; known here: {known}", where)


def render(template: str, values: Mapping[str, str]) -> str:
    return template.format_map(values)
