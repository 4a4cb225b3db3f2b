"""Windows has no os.fchmod and may lack signals other platforms have: the code paths that
use them must work without them. Simulated here by taking them away."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from neon_sync.engine.interrupt import Interrupt
from tests.conftest import Result, SeededNeon

CONFIG = """\
version: 1
neon:
  project_id: ${NEON_PROJECT_ID}
targets:
  local: { provider: dotenv, path: .env }
branches:
  - match: main
    sync:
      - { target: local, vars: { DATABASE_URL: pooled } }
"""


def test_sync_writes_env_and_state_without_os_fchmod(
    monkeypatch: pytest.MonkeyPatch,
    run_cli: Callable[..., Result],
    write_config: Callable[[str], Path],
    neon_env: dict[str, str],
    neon: SeededNeon,
    tmp_path: Path,
) -> None:
    monkeypatch.delattr(os, "fchmod")
    write_config(CONFIG)
    result = run_cli("sync", env=neon_env)
    assert result.exit_code == 0, result.output
    password = neon.password(neon.project_id, "main", "neondb_owner")
    assert password in (tmp_path / ".env").read_text()
    assert (tmp_path / ".env").stat().st_mode & 0o777 == 0o600  # os.chmod did it instead
    json.loads((tmp_path / ".neon-sync" / "state.json").read_text())


def test_interrupt_handling_works_where_sigterm_does_not_exist(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(signal, "SIGTERM")
    before = signal.getsignal(signal.SIGINT)
    interrupt = Interrupt()
    with interrupt.installed():
        assert signal.getsignal(signal.SIGINT) != before
        with interrupt.writing() as stop:
            signal.raise_signal(signal.SIGINT)  # during writes: noted, not raised
            assert stop.is_set()
    assert signal.getsignal(signal.SIGINT) == before
    assert interrupt.exit_code == 130
