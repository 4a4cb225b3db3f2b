from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from tests.conftest import Result


def test_demo_syncs_the_example_config_end_to_end_without_secrets_in_output(
    run_cli: Callable[..., Result], tmp_path: Path
) -> None:
    result = run_cli("demo", "--keep", str(tmp_path / "demo"))
    assert result.exit_code == 0, result.output
    assert "10 created" in result.stdout and "10 unchanged" in result.stdout
    written = (tmp_path / "demo" / ".env.alice").read_text()
    passwords = set(re.findall(r"npg_[A-Za-z0-9]+", written))
    assert passwords  # the file holds the real strings...
    for password in passwords:  # ...and the output never does
        assert password not in result.output
    assert "neondb_owner:****@" in result.stdout
