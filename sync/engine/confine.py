"""Paths built from Neon data stay where the config put them.

Anyone who can create a Neon branch chooses its name, and `path: ".env.{n}"` puts that name
in a file path: `feat/../../../X` must not write outside the project. A path option whose
template has placeholders must resolve inside the folder its fixed part names (the config's
folder for `.env.{n}`, `deploy/` for `deploy/{n}.env`); names with `..`, absolute paths, NUL
or line breaks never reach the file system."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

PATH_OPTIONS = frozenset({"path"})
_BAD = re.compile(r"[\x00-\x1f\x7f]")


def problem(raw: Mapping[str, Any], expanded: Mapping[str, Any], base: Path) -> str | None:
    """Why an expanded path option may not be used, or None. `raw` holds the templates."""
    for name in PATH_OPTIONS:
        template, value = raw.get(name), expanded.get(name)
        if not isinstance(template, str) or not isinstance(value, str) or "{" not in template:
            continue  # written out in the config by its owner: theirs to place
        if _BAD.search(value):
            return f"option {name!r} would hold a control character (NUL, newline)"
        if os.path.isabs(value) and not os.path.isabs(template):
            return f"option {name!r} would become an absolute path"
        fixed = template[: template.find("{")]
        folder = _folder(base, fixed)
        target = Path(os.path.normpath(base / value))
        climbs = Path(value).parts.count("..") > Path(fixed).parts.count("..")
        if climbs or not target.is_relative_to(folder):
            return (
                f"option {name!r} would resolve to {value[:120]!r}, outside "
                f"{folder.name or folder}/; branch names may not lead out of that folder"
            )
    return None


def _folder(base: Path, fixed: str) -> Path:
    """The folder the fixed start of a template names: `deploy/` of `deploy/{n}.env`."""
    named = fixed if fixed.endswith(("/", os.sep)) else os.path.dirname(fixed)
    return Path(os.path.normpath(base / (named or ".")))
