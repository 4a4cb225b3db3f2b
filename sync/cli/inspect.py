"""Commands that look without writing: `url`, `branches`, `validate`."""

from __future__ import annotations

from typing import Annotated

import typer

from neon_sync.cli.options import ConfigOpt, JsonOpt, handled


def register(app: typer.Typer) -> None:
    app.command()(url)
    app.command()(branches)
    app.command()(validate)


@handled
def url(
    branch: Annotated[
        str | None, typer.Argument(help="Branch name or id (default: the default branch)")
    ] = None,
    pooled: Annotated[bool, typer.Option("--pooled", help="Through the PgBouncer pooler.")] = False,
    database: Annotated[str | None, typer.Option("--database", "-d")] = None,
    role: Annotated[str | None, typer.Option("--role", "-r")] = None,
    endpoint_type: Annotated[
        str, typer.Option("--endpoint-type", help="read_write or read_only")
    ] = "read_write",
    format_: Annotated[str, typer.Option("--format", help="uri, jdbc, dsn or prisma")] = "uri",
    project_id: Annotated[str | None, typer.Option("--project-id")] = None,
    config: ConfigOpt = None,
) -> None:
    """Print one connection string (this command alone prints a secret, on purpose)."""
    from neon_sync.commands.url import connection_string

    value = connection_string(
        branch,
        pooled=pooled,
        database=database,
        role=role,
        endpoint_type=endpoint_type,
        format_=format_,
        project_id=project_id,
        config_path=config,
    )
    print(value.reveal())


@handled
def branches(config: ConfigOpt = None, json_out: JsonOpt = False) -> None:
    """List Neon's branches and the rules and targets each one matches."""
    from neon_sync.commands.inspect import branch_matches
    from neon_sync.render import console as output

    with_run = branch_matches(config)
    output.print_branches(with_run, json_out)


@handled
def validate(config: ConfigOpt = None) -> None:
    """Check the config without calling any API."""
    from neon_sync.commands.inspect import validate_config
    from neon_sync.render import console as output

    path, count = validate_config(config)
    output.note(f"{path}: ok ({count} rules)")
