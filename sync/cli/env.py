"""CLI: `neon-sync env` and `neon-sync run`, a branch's strings without a config's rules."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from typer.core import TyperCommand

from neon_sync.cli.options import ConfigOpt, handled
from neon_sync.config.presets import PRESETS

BranchArg = Annotated[
    str | None,
    typer.Argument(
        metavar="BRANCH", help="Branch name or id (default: the project's default branch)."
    ),
]
PresetOpt = Annotated[
    str | None,
    typer.Option(
        "--preset",
        metavar="NAME",
        help=f"One of {', '.join(sorted(PRESETS))} (default: DATABASE_URL pooled and "
        "DATABASE_URL_UNPOOLED direct, as Neon's Vercel integration names them).",
    ),
]
DatabaseOpt = Annotated[
    str | None, typer.Option("--database", "-d", metavar="NAME", help="Default: neondb.")
]
RoleOpt = Annotated[
    str | None, typer.Option("--role", "-r", metavar="NAME", help="Default: neondb_owner.")
]
ProjectOpt = Annotated[
    str | None,
    typer.Option(
        "--project-id",
        metavar="ID",
        help="Default: the config's, $NEON_PROJECT_ID, or neonctl's .neon file.",
    ),
]


def register(app: typer.Typer) -> None:
    app.command("env")(env)
    app.command("run", cls=_SplitAtDashes)(run)


@handled
def env(
    branch: BranchArg = None,
    format_: Annotated[
        str,
        typer.Option(
            "--format", "-f", metavar="FORMAT", help="dotenv, json, shell or github-output"
        ),
    ] = "dotenv",
    preset: PresetOpt = None,
    database: DatabaseOpt = None,
    role: RoleOpt = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Merge into this .env file instead of printing."
        ),
    ] = None,
    project_id: ProjectOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Print a branch's connection strings as a .env, JSON, shell or $GITHUB_OUTPUT document,
    or merge them into a .env file (-o). Needs no config file."""
    from neon_sync.commands.env import FORMATS, merge_into, render_values
    from neon_sync.errors import ConfigError
    from neon_sync.render import console as out

    if format_ not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)}")
    if output is not None and format_ != "dotenv":
        raise ConfigError("-o writes a .env file; leave out --format or print to stdout")
    values = _values(branch, preset, database, role, project_id, config)
    if output is None:
        print(render_values(values, format_), end="")
        return
    writes = merge_into(output, values)
    done = ", ".join(f"{w.key} ({w.action}d)" for w in writes) or "already up to date"
    out.note(f"{output}: {done}")


def _values(
    branch: str | None,
    preset: str | None,
    database: str | None,
    role: str | None,
    project_id: str | None,
    config: str | None,
) -> dict[str, Any]:
    from neon_sync.commands.env import branch_values

    return branch_values(
        branch,
        preset=preset,
        database=database,
        role=role,
        project_id=project_id,
        config_path=config,
    )


class _SplitAtDashes(TyperCommand):
    """Everything after `--` is the command to run, kept away from neon-sync's own parsing."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if "--" in args:
            at = args.index("--")
            ctx.meta["neon_sync.command"] = args[at + 1 :]
            args = args[:at]
        parsed: list[str] = super().parse_args(ctx, args)
        return parsed


@handled
def run(
    ctx: typer.Context,
    branch: BranchArg = None,
    preset: PresetOpt = None,
    database: DatabaseOpt = None,
    role: RoleOpt = None,
    project_id: ProjectOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Run a command with a branch's connection strings in its environment:
    neon-sync run [BRANCH] -- CMD [ARGS...]. Nothing is written to disk; the command's exit
    status is neon-sync's."""
    from neon_sync.commands.env import run_command
    from neon_sync.errors import ConfigError

    argv: list[Any] = ctx.meta.get("neon_sync.command", [])
    if not argv:
        raise ConfigError(
            "no command to run: write it after --, e.g. neon-sync run dev -- npm test"
        )
    values = _values(branch, preset, database, role, project_id, config)
    raise typer.Exit(run_command([str(a) for a in argv], values))
