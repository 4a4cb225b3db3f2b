"""Start-up: `--version` and the top-level `--help` are answered without loading typer, httpx
or rich, and the cached help is exactly what typer renders. (Timing itself is measured by
benchmarks/startup.py; a timed test would be flaky on a loaded machine.)"""

from __future__ import annotations

import subprocess
import sys

from neon_sync.help_text import HELP

HEAVY = ("typer", "click", "httpx", "rich", "nacl", "yaml")


def launch(*args: str, columns: str = "80") -> subprocess.CompletedProcess[str]:
    code = (
        "import sys\n"
        f"sys.argv = ['neon-sync', *{list(args)!r}]\n"
        "from neon_sync.launch import main\n"
        "main()\n"
        f"loaded = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))\n"
        "print('LOADED', loaded, file=sys.stderr)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"COLUMNS": columns, "PATH": ""},
        check=True,
    )


def test_version_loads_no_heavy_module() -> None:
    done = launch("--version")
    assert done.stdout.startswith("neon-sync ")
    assert "LOADED []" in done.stderr


def test_help_loads_no_heavy_module_and_lists_every_command() -> None:
    done = launch("--help")
    assert done.stdout == HELP
    assert "LOADED []" in done.stderr
    for command in ("plan", "sync", "url", "watch", "branch"):
        assert f"\n  {command} " in done.stdout


def test_cached_help_is_what_typer_renders() -> None:
    code = "from neon_sync.cli import app; app(['--help'], prog_name='neon-sync')"
    rendered = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"COLUMNS": "80", "PATH": ""},
        check=True,
    )
    assert rendered.stdout == HELP, (
        "the commands' help changed: set HELP in sync/help_text.py to\n" + rendered.stdout
    )


def test_narrow_terminal_help_goes_through_typer() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "neon_sync", "--help"],
        capture_output=True,
        text=True,
        env={"COLUMNS": "60", "PATH": ""},
        check=True,
    )
    assert "Commands:" in done.stdout
    assert max(len(line) for line in done.stdout.splitlines()) <= 60
