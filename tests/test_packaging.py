"""The installed distribution: one import package, `neon_sync`, that an application's own
`sync` or `providers` package cannot shadow; and the example config it ships."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from importlib import resources
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_packaged_example_is_the_repository_example() -> None:
    shipped = resources.files("neon_sync.config") / "example.yaml"
    assert shipped.read_bytes() == (ROOT / "neon-sync.yaml").read_bytes()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (found,) = out.glob("neon_sync-*.whl")
    return found


def _impostors(folder: Path) -> Path:
    """Unrelated top-level `sync` and `providers` packages, as an application might have."""
    for name in ("sync", "providers"):
        package = folder / name
        package.mkdir(parents=True)
        (package / "__init__.py").write_text(f"raise ImportError('the application\\'s {name}')\n")
        (package / "cli.py").write_text("def main():\n    raise SystemExit('wrong sync.cli')\n")
    return folder


def test_wheel_installs_beside_unrelated_sync_and_providers_packages(
    wheel: Path, tmp_path: Path
) -> None:
    fresh = tmp_path / "venv"
    venv.create(fresh, with_pip=True)
    bin_dir = fresh / ("Scripts" if os.name == "nt" else "bin")
    pip = [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
    subprocess.run([*pip, str(wheel)], check=True, capture_output=True)
    # neon-sync's own dependencies come from the venv running these tests (no network here);
    # a plain path entry, so that the editable install of this checkout is not picked up.
    site = subprocess.run(
        [str(bin_dir / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_path("purelib") + "\n")

    app = _impostors(tmp_path / "app")
    env = {**os.environ, "PYTHONPATH": str(app)}  # first on sys.path, before site-packages
    env.pop("NEON_SYNC_CONFIG", None)

    version = subprocess.run(
        [str(bin_dir / "neon-sync"), "--version"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("neon-sync ")

    # `python -m neon_sync` from a folder holding the impostors (cwd is first on sys.path)
    where = subprocess.run(
        [str(bin_dir / "python"), "-m", "neon_sync", "demo", "--keep", str(tmp_path / "demo")],
        env=env,
        cwd=app,
        capture_output=True,
        text=True,
        check=False,
    )
    assert where.returncode == 0, where.stderr
    assert "10 created" in where.stdout
    imported = subprocess.run(
        [str(bin_dir / "python"), "-c", "import neon_sync.providers.base as m; print(m.__file__)"],
        env=env,
        cwd=app,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert Path(imported.strip()).is_relative_to(site)  # the wheel's copy, not the checkout
