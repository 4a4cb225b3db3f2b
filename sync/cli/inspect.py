"""Commands that look without writing: `url`, `branches`, `validate`."""

from __future__ import annotations

from typing import Annotated

import typer

from neon_sync.cli.env import BranchArg, DatabaseOpt, ProjectOpt, RoleOpt
from neon_sync.cli.options import ConfigOpt, JsonOpt, handled
from neon_sync.neon.formats import ENDPOINT_TYPES, FORMAT_HELP_TEXT, one_of


def register(app: typer.Typer) -> None:
    app.command()(url)
    app.command()(branches)
    app.command()(validate)


@handled
def url(
    branch: BranchArg = None,
    pooled: Annotated[bool, typer.Option("--pooled", help="Through the PgBouncer pooler.")] = False,
    database: DatabaseOpt = None,
    role: RoleOpt = None,
    endpoint_type: Annotated[
        str, typer.Option("--endpoint-type", metavar="TYPE", help=one_of(ENDPOINT_TYPES))
    ] = "read_write",
    format_: Annotated[
        str, typer.Option("--format", metavar="FORMAT", help=FORMAT_HELP_TEXT)
    ] = "uri",
    preset: Annotated[
        str | None,
        typer.Option("--preset", metavar="NAME", help="Print every NAME=value of this preset."),
    ] = None,
    project_id: ProjectOpt = None,
    config: ConfigOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Print one connection string (this command and `env` print secrets, on purpose).
    --json adds host, pooled host, role, database and endpoint id."""
    import json

    from neon_sync.commands.env import branch_values
    from neon_sync.commands.url import connection

    if preset is not None:
        values = branch_values(
            branch, preset=preset, database=database, role=role, project_id=project_id,
            config_path=config,
        )  # fmt: skip
        for name, secret in values.items():
            print(f"{name}={secret.reveal()}")
        return
    found = connection(
        branch,
        pooled=pooled,
        database=database,
        role=role,
        endpoint_type=endpoint_type,
        format_=format_,
        project_id=project_id,
        config_path=config,
    )
    # The document holds the secret the user asked for: printed as is, like the plain URL.
    print(json.dumps(found.to_json(), indent=2) if json_out else found.url.reveal())


@handled
def branches(config: ConfigOpt = None, json_out: JsonOpt = False) -> None:
    """List Neon's branches and the rules and targets each one matches."""
    from neon_sync.commands.inspect import branch_matches
    from neon_sync.render import console as output

    with_run = branch_matches(config)
    output.print_branches(with_run, json_out)


@handled
def validate(config: ConfigOpt = None, json_out: JsonOpt = False) -> None:
    """Check the config without calling any API."""
    from neon_sync.commands.inspect import validate_config
    from neon_sync.render import console as output

    path, count = validate_config(config)
    if json_out:
        output.print_json({"config": str(path), "valid": True, "rules": count})
    else:
        output.note(f"{path}: ok ({count} rules)")
