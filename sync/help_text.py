"""`neon-sync --help` as typer renders it at 80 columns, served without importing typer
(neon_sync.launch). tests/test_startup.py fails when a command or its help changes and
this text does not; its message holds the new text, which this prints:
    COLUMNS=80 python -c "from neon_sync.cli import app; app(['--help'], prog_name='neon-sync')"
"""

HELP = """\
Usage: neon-sync [OPTIONS] COMMAND [ARGS]...

  Keep Neon branch connection strings in step with .env files, GitHub and
  Vercel.

Options:
  --version  Show the version.
  --help     Show this message and exit.

Commands:
  plan      Show what sync would do.
  sync      Write the configured connection strings to every target that...
  url       Print one connection string (this command alone prints a...
  branches  List Neon's branches and the rules and targets each one matches.
  validate  Check the config without calling any API.
  check     Connect through every string the config would write (select...
  rotate    Reset a role's password in Neon, then update every target...
  watch     Keep every target in step with Neon: poll, and sync what...
  demo      Run the example neon-sync.yaml against bundled emulators: no...
  branch    Create or delete a Neon branch and sync its targets in one step.
"""
