"""`neon-sync check`: does each string the config writes actually connect?"""

from __future__ import annotations

from typing import Annotated

import typer

from neon_sync.cli.options import BranchOpt, ConfigOpt, JsonOpt, handled


def register(app: typer.Typer) -> None:
    app.command()(check)


@handled
def check(
    config: ConfigOpt = None,
    branch: BranchOpt = None,
    json_out: JsonOpt = False,
    url_from_env: Annotated[
        str | None,
        typer.Option("--url-from-env", help="Check the string in this variable (env or ./.env)."),
    ] = None,
    resolve: Annotated[
        list[str] | None,
        typer.Option(
            "--resolve",
            help="HOST=ADDRESS:PORT: connect there, keeping HOST for TLS and messages "
            "(repeatable, like curl's).",
        ),
    ] = None,
) -> None:
    """Connect through every string the config would write (select 1) and report, per
    variable, ok or the cause of the failure. Exit 1 if any failed."""
    from neon_sync.commands.check import check_config, check_env, failed, parse_resolve
    from neon_sync.render import check as render

    where = parse_resolve(resolve or [])
    errors: dict[str, str] = {}
    if url_from_env:
        checked = check_env(url_from_env, where)
    else:
        checked, errors = check_config(config, branch or (), where)
    render.report(checked, errors, json_out)
    if failed(checked) or errors:
        raise typer.Exit(1)
