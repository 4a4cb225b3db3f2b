"""Holder a GitHub target's keys live: a repository, one of its environments, or an
organisation. Parsed from a target's options without touching the network."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

from neon_sync.errors import ConfigError

OPTIONS = frozenset(
    {
        "repository",
        "environment",
        "create_environments",
        "org",
        "visibility",
        "repositories",
        "state_variable",
    }
)
VISIBILITIES = ("all", "private", "selected")
_REPOSITORY = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*)/[A-Za-z0-9._-]+")
_ORG = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]*)")


@dataclass(frozen=True)
class Holder:
    kind: Literal["repo", "env", "org"]
    owner: str  # the repository's owner, or the organisation
    repo: str = ""
    environment: str = ""
    create_environments: bool = True
    visibility: str = "private"  # organisation scope only
    repository_ids: tuple[int, ...] = ()  # organisation scope, visibility "selected"

    @property
    def repository(self) -> str:
        return f"{self.owner}/{self.repo}"

    @property
    def id(self) -> str:
        if self.kind == "org":
            return f"org:{self.owner}"
        if self.kind == "env":
            return f"env:{self.repository}/{self.environment}"
        return f"repo:{self.repository}"

    @property
    def label(self) -> str:
        if self.kind == "org":
            return f"organisation {self.owner}"
        if self.kind == "env":
            return f"environment {self.environment!r} of {self.repository}"
        return f"repository {self.repository}"

    @property
    def repo_path(self) -> str:
        return f"/repos/{self.owner}/{self.repo}"

    @property
    def env_path(self) -> str:
        # GitHub wants slashes in environment names sent as %2F
        return f"{self.repo_path}/environments/{quote(self.environment, safe='')}"

    @property
    def prefix(self) -> str:
        """The path that `/secrets` and `/variables` hang from."""
        if self.kind == "org":
            return f"/orgs/{self.owner}/actions"
        if self.kind == "env":
            return self.env_path
        return f"{self.repo_path}/actions"

    def options(self) -> dict[str, Any]:
        """Options that rebuild this place without the run's environment (kept in state)."""
        if self.kind == "org":
            out: dict[str, Any] = {"org": self.owner, "visibility": self.visibility}
            if self.repository_ids:
                out["repositories"] = [str(i) for i in self.repository_ids]
            return out
        out = {"repository": self.repository}
        if self.kind == "env":
            out["environment"] = self.environment
            out["create_environments"] = self.create_environments
        return out


def parse(target: str, options: Mapping[str, Any], env: Mapping[str, str]) -> Holder:
    label = f"target {target!r}"
    if options.get("org") not in (None, ""):
        return _org(label, options)
    for key in ("visibility", "repositories"):
        if key in options:
            raise ConfigError(f"{label}: `{key}` applies only with `org:`")
    repository = options.get("repository") or env.get("GITHUB_REPOSITORY") or ""
    if not isinstance(repository, str) or not _REPOSITORY.fullmatch(repository):
        if not repository:
            raise ConfigError(
                f"{label}: set `repository: OWNER/NAME` (or GITHUB_REPOSITORY in the environment)"
            )
        raise ConfigError(f"{label}: repository must be OWNER/NAME, not {repository!r}")
    owner, repo = repository.split("/", 1)
    create = options.get("create_environments", True)
    if isinstance(create, str) and create.lower() in ("true", "false"):
        create = create.lower() == "true"
    if not isinstance(create, bool):
        raise ConfigError(f"{label}: create_environments must be true or false")
    environment = options.get("environment")
    if environment in (None, ""):
        if "environment" in options:
            raise ConfigError(f"{label}: environment is empty after expanding placeholders")
        return Holder("repo", owner, repo, create_environments=create)
    if not isinstance(environment, str) or len(environment) > 255:
        raise ConfigError(f"{label}: environment must be a name of at most 255 characters")
    if any(ord(c) < 32 for c in environment):
        raise ConfigError(f"{label}: environment {environment!r} has control characters")
    return Holder("env", owner, repo, environment, create)


def _org(label: str, options: Mapping[str, Any]) -> Holder:
    org = options["org"]
    if not isinstance(org, str) or not _ORG.fullmatch(org):
        raise ConfigError(f"{label}: org must be an organisation login, not {org!r}")
    for key in ("repository", "environment"):
        if options.get(key):
            raise ConfigError(f"{label}: `org:` and `{key}:` cannot be used together")
    visibility = options.get("visibility", "private")
    if visibility not in VISIBILITIES:
        raise ConfigError(f"{label}: visibility must be one of {', '.join(VISIBILITIES)}")
    raw = options.get("repositories", [])
    if not isinstance(raw, list):
        raise ConfigError(f"{label}: repositories must be a list of repository ids")
    ids = []
    for item in raw:
        text = str(item)
        if not text.isdigit():
            # GitHub selects repositories by numeric id; resolving names would need
            # another API (GET /repos/...) and another token permission.
            raise ConfigError(
                f"{label}: repositories takes numeric repository ids, not {text!r} "
                f"(find one with: gh api repos/OWNER/NAME --jq .id)"
            )
        ids.append(int(text))
    if (visibility == "selected") != bool(ids):
        raise ConfigError(
            f"{label}: `visibility: selected` needs `repositories:` (repository ids), "
            "and `repositories:` needs `visibility: selected`"
        )
    return Holder("org", org, visibility=visibility, repository_ids=tuple(ids))
