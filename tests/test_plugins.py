"""Provider plugins: a distribution that registers a module in the entry-point group
`neon_sync.providers` is found by name, imported only when a target uses it, and synced
through like a built-in. The plugin here is built and installed into a temporary venv."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import site
import subprocess
import sys
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import NEON_KEY, SeededNeon, Served

PLUGIN = '''\
"""A provider that keeps keys in a JSON file (the example of the README)."""
import json
from pathlib import Path

from neon_sync.providers.base import BaseProvider, ConfigError, Current, Scope

OPTIONS = frozenset({"file"})


class JsonFile(BaseProvider):
    def __init__(self, context):
        super().__init__()
        self.base = context.base_dir

    def scope(self, target, options):
        if not isinstance(options.get("file"), str):
            raise ConfigError(f"target {target!r}: option 'file' must be a string")
        return Scope(target, options["file"], {"path": str(self.base / options["file"])})

    def _load(self, scope):
        path = Path(scope.options["path"])
        return json.loads(path.read_text()) if path.exists() else {}

    def read(self, scopes):
        return {s: {k: Current(k, v) for k, v in self._load(s).items()} for s in scopes}

    def apply(self, scope, writes):
        data = self._load(scope)
        for write in writes:
            if write.action == "delete":
                data.pop(write.key, None)
            else:
                data[write.key] = write.desired.value.reveal()
        Path(scope.options["path"]).write_text(json.dumps(data, sort_keys=True))
        return {write.key: None for write in writes}


def create(context):
    return JsonFile(context)
'''
ENTRY_POINTS = """\
[neon_sync.providers]
jsonfile = neon_sync_jsonfile
"""
CONFIG = """\
version: 1
neon:
  project_id: ${NEON_PROJECT_ID}
targets:
  store: { provider: jsonfile, file: secrets.json }
branches:
  - match: main
    sync: [{ target: store, vars: { DATABASE_URL: pooled } }]
"""


def build_wheel(folder: Path) -> Path:
    """The plugin as a wheel, built here with zipfile (the wheel format is a zip with a
    .dist-info folder) so that no build backend has to be downloaded."""
    dist_info = "neon_sync_jsonfile-1.0.dist-info"
    files = {
        "neon_sync_jsonfile.py": PLUGIN,
        f"{dist_info}/METADATA": "Metadata-Version: 2.1\nName: neon-sync-jsonfile\nVersion: 1.0\n",
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
        f"{dist_info}/entry_points.txt": ENTRY_POINTS,
    }
    record = []
    for name, text in files.items():
        digest = hashlib.sha256(text.encode()).digest()
        encoded = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        record.append(f"{name},sha256={encoded},{len(text.encode())}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = "\n".join(record) + "\n"
    wheel = folder / "neon_sync_jsonfile-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return wheel


@pytest.fixture(scope="module")
def plugin_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv that sees this one's packages (neon-sync and its dependencies, through a .pth
    file) and has the plugin distribution installed by pip."""
    root = tmp_path_factory.mktemp("plugin")
    env_dir = root / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    target = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    # addsitedir, not a bare path: the .pth files there (an editable install's) count too
    lines = [f"import site; site.addsitedir({path!r})" for path in site.getsitepackages()]
    Path(target, "outer.pth").write_text("\n".join(lines) + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(build_wheel(root))],
        check=True, capture_output=True,
    )  # fmt: skip
    return python


def test_a_plugin_installed_in_a_venv_syncs_like_a_builtin(
    plugin_venv: Path, neon: SeededNeon, neon_served: Served, tmp_path: Path
) -> None:
    (tmp_path / "neon-sync.yaml").write_text(CONFIG, encoding="utf-8")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("NEON_", "PYTHON"))},
        "NEON_API_KEY": NEON_KEY,
        "NEON_API_HOST": neon_served.url,
        "NEON_PROJECT_ID": neon.project_id,
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(plugin_venv), "-m", "neon_sync", *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    first = run("sync", "--json")
    assert first.returncode == 0, first.stderr
    held = json.loads((tmp_path / "secrets.json").read_text())
    password = neon.password(neon.project_id, "main", "neondb_owner")
    assert list(held) == ["DATABASE_URL"] and f":{password}@" in held["DATABASE_URL"]
    assert "-pooler" in held["DATABASE_URL"] and password not in first.stdout + first.stderr
    assert [c["action"] for c in json.loads(first.stdout)["changes"]] == ["create"]
    second = run("plan", "--json")
    assert [c["action"] for c in json.loads(second.stdout)["changes"]] == ["noop"]


def test_an_unknown_provider_names_the_entry_point_group(plugin_venv: Path, tmp_path: Path) -> None:
    (tmp_path / "neon-sync.yaml").write_text(
        CONFIG.replace("provider: jsonfile", "provider: jsonfil"), encoding="utf-8"
    )
    done = subprocess.run(
        [str(plugin_venv), "-m", "neon_sync", "validate"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "NEON_PROJECT_ID": "p-x"},
    )  # fmt: skip
    assert done.returncode == 2
    assert "known providers: dotenv, github, jsonfile, vercel" in done.stderr
    assert "neon_sync.providers" in done.stderr


def test_plugins_are_not_imported_when_no_target_uses_them(plugin_venv: Path) -> None:
    probe = textwrap.dedent(
        """
        import sys
        from neon_sync import providers
        providers.module("dotenv")
        assert "jsonfile" in providers.plugins()
        print("neon_sync_jsonfile" in sys.modules)
        """
    )
    done = subprocess.run(
        [str(plugin_venv), "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.stdout.strip() == "False", done.stderr
