"""`neon-sync init`: a first, commented neon-sync.yaml from what the folder already says —
neonctl's `.neon`, `.vercel/project.json`, the git remote, the ORM in use, an existing .env."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from neon_sync.commands.project import CONTEXT_FILE, neonctl_project
from neon_sync.config.model import CONFIG_NAME
from neon_sync.config.schema import SCHEMA_URL
from neon_sync.errors import ConfigError

# git@github.com:OWNER/NAME(.git), https://github.com/OWNER/NAME(.git), ssh://git@github.com/...
_GITHUB = re.compile(r"github\.com[:/](?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+?)(?:\.git)?/?$")
# Dependencies that tell which names an application reads (npm and PyPI names).
_PRESET_BY_DEPENDENCY = {
    "prisma": "prisma",
    "@prisma/client": "prisma",
    "@vercel/postgres": "vercel-postgres",
}


@dataclass(frozen=True)
class Found:
    """What init learned, each with where it learned it (shown to the user and in comments)."""

    project_id: str | None = None
    vercel_project: str | None = None
    vercel_team: str | None = None
    repository: str | None = None
    preset: str | None = None
    preset_why: str = ""
    dotenv: bool = False

    def lines(self) -> list[str]:
        out = []
        if self.project_id:
            out.append(f"Neon project {self.project_id} (from {CONTEXT_FILE})")
        if self.vercel_project:
            out.append(f"Vercel project {self.vercel_project} (from .vercel/project.json)")
        if self.repository:
            out.append(f"GitHub repository {self.repository} (from the git remote)")
        if self.preset:
            out.append(f"preset {self.preset} (from {self.preset_why})")
        if self.dotenv:
            out.append("a .env file")
        return out


def _git_remote(folder: Path) -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 (fixed arguments)
            [git, "-C", str(folder), "remote", "-v"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    remotes = [line.split() for line in done.stdout.splitlines() if len(line.split()) >= 2]
    # origin first, then any other remote on GitHub
    for _name, url, *_ in sorted(remotes, key=lambda r: r[0] != "origin"):
        match = _GITHUB.search(url)
        if match:
            return match.group("repo")
    return None


def _vercel(folder: Path) -> tuple[str | None, str | None]:
    path = folder / ".vercel" / "project.json"
    if not path.is_file():
        return None, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise ConfigError(f"{path} is not JSON; run `vercel link` again") from None
    project = data.get("projectId") if isinstance(data, dict) else None
    org = data.get("orgId") if isinstance(data, dict) else None
    # A personal account's orgId is the user's id, not a team: no team option then.
    team = org if isinstance(org, str) and org.startswith("team_") else None
    return (project if isinstance(project, str) and project else None), team


def _dependencies(folder: Path) -> list[tuple[str, str]]:
    """(dependency name, file it is declared in)."""
    out: list[tuple[str, str]] = []
    package = folder / "package.json"
    if package.is_file():
        try:
            data = json.loads(package.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            data = {}
        for section in ("dependencies", "devDependencies"):
            names = data.get(section) if isinstance(data, dict) else None
            out += [(name, "package.json") for name in names or {}]
    pyproject = folder / "pyproject.toml"
    if pyproject.is_file():
        try:
            project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            project = {}
        for spec in project.get("dependencies", []) if isinstance(project, dict) else []:
            name = re.split(r"[\s<>=!~;\[(]", str(spec), maxsplit=1)[0].lower()
            out.append((name, "pyproject.toml"))
    return out


def _preset(folder: Path) -> tuple[str | None, str]:
    if (folder / "prisma" / "schema.prisma").is_file():
        return "prisma", "prisma/schema.prisma"
    for name, source in _dependencies(folder):
        if name in _PRESET_BY_DEPENDENCY:
            return _PRESET_BY_DEPENDENCY[name], f"{name} in {source}"
    return None, ""


def detect(folder: Path) -> Found:
    vercel_project, vercel_team = _vercel(folder)
    preset, why = _preset(folder)
    return Found(
        project_id=neonctl_project(folder),
        vercel_project=vercel_project,
        vercel_team=vercel_team,
        repository=_git_remote(folder),
        preset=preset,
        preset_why=why,
        dotenv=(folder / ".env").is_file(),
    )


def _scalar(value: str) -> str:
    """A YAML scalar for a value read from a file (or typed): bare when plainly safe, else a
    double-quoted string (JSON's quoting is valid YAML), so no value can add keys."""
    return value if re.fullmatch(r"[A-Za-z0-9_./-]+", value) else json.dumps(value)


def _vars(found: Found, pad: str) -> str:
    if found.preset:
        return f"{pad}preset: {found.preset}\n"
    return f"{pad}vars: {{ DATABASE_URL: pooled, DATABASE_URL_UNPOOLED: direct }}\n"


def render(found: Found) -> str:
    """The config text: valid as is (`neon-sync validate` accepts it), commented for editing."""
    project = _scalar(found.project_id) if found.project_id else "${NEON_PROJECT_ID}"
    out = [
        f"# yaml-language-server: $schema={SCHEMA_URL}\n",
        "# Written by `neon-sync init`. `neon-sync plan` shows what it would do;\n",
        "# `neon-sync sync` does it. The README's configuration reference has every key.\n",
        "version: 1\n\nneon:\n",
        f"  project_id: {project}\n",
        "  # database: neondb     # defaults of every var below\n",
        "  # role: neondb_owner   # the API key comes only from NEON_API_KEY\n\ntargets:\n",
    ]
    if found.vercel_project:
        out += [
            "  vercel:\n    provider: vercel\n",
            f"    project: {_scalar(found.vercel_project)}\n",
        ]
        if found.vercel_team:
            out.append(f"    team: {_scalar(found.vercel_team)}\n")
    if found.repository:
        out += [
            "  github:                  # Actions secrets; token: GITHUB_TOKEN or GH_TOKEN\n",
            f"    provider: github\n    repository: {_scalar(found.repository)}\n",
        ]
    local = found.dotenv or not (found.vercel_project or found.repository)
    if local:
        out.append(
            "  local:\n    provider: dotenv\n    path: .env               # beside this file\n"
        )
    out.append("\nbranches:\n")
    if found.vercel_project or found.repository:
        out.append("  - default: true          # the project's default branch: production\n")
        out.append("    sync:\n")
        if found.vercel_project:
            out += ["      - target: vercel\n        environment: production\n"]
            out.append(_vars(found, "        "))
        if found.repository:
            out.append("      - target: github       # e.g. for migrations in deploy jobs\n")
            out.append("        vars: { DATABASE_URL: direct }\n")
    if found.vercel_project:
        out += [
            '  - match: "preview/{git_branch}"   # a Neon branch per Git branch: its previews\n',
            "    sync:\n      - target: vercel\n        environment: preview\n",
            '        git_branch: "{git_branch}"\n',
            _vars(found, "        "),
        ]
    if local:
        out += [
            "  # Each developer's own branch (dev/<login>) in their .env;\n",
            "  # create it with `neon-sync branch create dev/$USER`.\n",
            '  - match: "dev/${USER:-me}"\n    sync:\n      - target: local\n',
            _vars(found, "        "),
        ]
    return "".join(out)


def write_config(
    folder: Path, found: Found, confirm: Callable[[Found], Found | None] | None = None
) -> Path | None:
    """Write neon-sync.yaml into `folder`; never over an existing one. `confirm` (interactive
    runs only) may complete what was found (a project id) or decline: then None is returned
    and nothing is written."""
    path = folder / CONFIG_NAME
    if path.exists():
        raise ConfigError(f"{path} already exists; edit it, or move it away and run init again")
    if confirm is not None:
        answered = confirm(found)
        if answered is None:
            return None
        found = answered
    text = render(found)
    try:
        with path.open("x", encoding="utf-8") as file:  # "x": never replace a file
            file.write(text)
    except FileExistsError:
        raise ConfigError(f"{path} already exists; edit it, or move it away") from None
    return path
