"""Where a Vercel target's keys live: a project, a set of environments and, for previews, a
Git branch. Parsed from a target's options without touching the network."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from neon_sync.choices import not_one_of
from neon_sync.envname import RULE, is_env_name
from neon_sync.errors import ConfigError
from neon_sync.providers.base import Desired

OPTIONS = frozenset(
    {"project", "team", "environment", "git_branch", "sensitive", "redeploy", "type"}
)
ENVIRONMENTS = ("production", "preview", "development")
TYPES = ("encrypted", "sensitive", "plain")
COMMENT_PREFIX = "managed by neon-sync; neon branch: "
# Since 0.2 the comment names the Neon project too, so another project's prune leaves it be:
# "managed by neon-sync; neon project: P; neon branch: B".
_COMMENT = re.compile(
    r"managed by neon-sync; (?:neon project: (?P<project>[^;\s]+); )?"
    r"neon branch: (?P<branch>\S.*?)\s*$"
)
# Names the Vercel runtime sets itself; the API refuses them.
RESERVED = frozenset(
    {
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SECRET_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "NOW_REGION",
        "TZ",
    }
)
MAX_VALUE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Spec:
    """One scope: (project, environments, git branch) plus how to write there."""

    project: str
    team: str | None
    targets: tuple[str, ...]  # sorted, distinct
    git_branch: str | None = None
    sensitive: bool = False
    redeploy: bool = False
    type: str | None = None
    neon_project: str = ""  # the Neon project whose values these are (in the comment)

    @property
    def id(self) -> str:
        where = f"{self.project}:{'+'.join(self.targets)}"
        return f"{where}@{self.git_branch}" if self.git_branch else where

    @property
    def project_key(self) -> tuple[str | None, str]:
        return (self.team, self.project)

    @property
    def team_query(self) -> dict[str, str]:
        """teamId for a team id, slug for a team's URL name, nothing for a personal account."""
        if not self.team:
            return {}
        return {"teamId" if self.team.startswith("team_") else "slug": self.team}

    @property
    def label(self) -> str:
        where = f"{'+'.join(self.targets)} of Vercel project {self.project!r}"
        if self.git_branch:
            where = f"preview (Git branch {self.git_branch!r}) of Vercel project {self.project!r}"
        return f"{where} in team {self.team!r}" if self.team else where

    @property
    def project_label(self) -> str:
        where = f"Vercel project {self.project!r}"
        return f"{where} in team {self.team!r}" if self.team else where

    def options(self) -> dict[str, Any]:
        out: dict[str, Any] = {"project": self.project, "environment": list(self.targets)}
        for name, value in [
            ("team", self.team),
            ("git_branch", self.git_branch),
            ("sensitive", self.sensitive or None),
            ("redeploy", self.redeploy or None),
            ("type", self.type),
        ]:
            if value is not None:
                out[name] = value
        return out

    def var_type(self, desired: Desired) -> str:
        if not desired.secret:
            return "plain"
        if desired.sensitive is not None:
            return "sensitive" if desired.sensitive else "encrypted"
        if self.type is not None:
            return self.type
        return "sensitive" if self.sensitive else "encrypted"

    def comment(self, branch: str) -> str:
        project = f"neon project: {self.neon_project}; " if self.neon_project else ""
        return f"managed by neon-sync; {project}neon branch: {branch}"[:500]  # Vercel's limit

    def owner_of(self, comment: Any) -> str | None:
        return owner_of(comment, self.neon_project)


def owner_of(comment: Any, neon_project: str = "") -> str | None:
    """The Neon branch named in a comment neon-sync wrote for `neon_project` (or, before
    comments named it, for any project), None for anyone else's."""
    match = _COMMENT.match(comment) if isinstance(comment, str) else None
    if match is None:
        return None
    if neon_project and match["project"] not in (None, neon_project):
        return None
    return match["branch"]


def parse(options: Mapping[str, Any], env: Mapping[str, str], neon_project: str = "") -> Spec:
    project = options.get("project")
    if not isinstance(project, str) or not project.strip():
        raise ConfigError("vercel: `project` is required (the project's name or prj_ id)")
    team = options.get("team")
    if team is None:
        team = env.get("VERCEL_TEAM_ID") or _team_from_org(env.get("VERCEL_ORG_ID"))
    if team is not None and (not isinstance(team, str) or not team.strip()):
        raise ConfigError("vercel: `team` must be a team id (team_...) or the team's slug")
    targets = _environments(options.get("environment"))
    branch = options.get("git_branch")
    if branch is not None:
        if not isinstance(branch, str) or not branch.strip():
            raise ConfigError("vercel: `git_branch` must be a non-empty Git branch name")
        if targets != ("preview",):
            raise ConfigError(
                "vercel: `git_branch` works only with `environment: preview` alone "
                "(Vercel scopes branch values to preview deployments)"
            )
    sensitive = _flag(options, "sensitive")
    kind = options.get("type")
    if kind is not None and kind not in TYPES:
        raise ConfigError(f"vercel: {not_one_of(kind, TYPES, 'type')}")
    if sensitive and kind not in (None, "sensitive"):
        raise ConfigError(f"vercel: `sensitive: true` contradicts `type: {kind}`; keep one")
    if (sensitive or kind == "sensitive") and "development" in targets:
        raise ConfigError(
            "vercel: sensitive variables cannot target development (Vercel refuses them); "
            "drop development from `environment` or use `sensitive: false`"
        )
    return Spec(
        project.strip(),
        team.strip() if team else None,
        targets,
        branch.strip() if branch else None,
        sensitive,
        _flag(options, "redeploy"),
        kind,
        neon_project,
    )


def check_key(spec: Spec, desired: Desired) -> None:
    key = desired.key
    if not is_env_name(key):
        raise ConfigError(f"vercel: {key!r} is not a valid variable name: {RULE}")
    if key in RESERVED:
        raise ConfigError(f"vercel: {key} is reserved by the Vercel runtime; choose another name")
    if len(desired.value.reveal().encode()) > MAX_VALUE_BYTES:
        raise ConfigError(f"vercel: the value of {key} is larger than Vercel's 64 KB limit")
    kind = spec.var_type(desired)
    if kind == "plain":
        if desired.secret:
            raise ConfigError(
                f"vercel: `type: plain` would store secret {key} readable in the dashboard; "
                "mark the var `secret: false` instead"
            )
    elif kind == "sensitive" and "development" in spec.targets:
        raise ConfigError(
            f"vercel: {key} is sensitive, and Vercel refuses sensitive variables for "
            "development; drop development from `environment` or the var's `sensitive: true`"
        )


def _team_from_org(org: str | None) -> str | None:
    # VERCEL_ORG_ID (from `vercel link`) is a user id for personal projects: not a team.
    return org if org and org.startswith("team_") else None


def _environments(value: Any) -> tuple[str, ...]:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names:
        raise ConfigError(
            "vercel: `environment` is required: production, preview, development or a list"
        )
    for name in names:
        if name not in ENVIRONMENTS:
            raise ConfigError(
                f"vercel: {not_one_of(name, ENVIRONMENTS, 'environment')}; "
                "custom environments are not supported yet"
            )
    return tuple(sorted(set(names)))


def _flag(options: Mapping[str, Any], name: str) -> bool:
    value = options.get(name, False)
    if not isinstance(value, bool):
        raise ConfigError(f"vercel: `{name}` must be true or false, not {value!r}")
    return value
