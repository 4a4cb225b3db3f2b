"""Speed and request counts of `neon-sync sync` against the emulators, with API latency.

    python benchmarks/sync_bench.py [--branches 200] [--latency 0.02]

Measures a first sync and a no-op re-run of N preview branches (each to a .env file, to a GitHub
environment and to a Vercel preview Git branch) and prints wall time and requests per API. The
point: requests stay O(branches) only where they must (one password reveal per branch), listing
is one call per API, and a no-op run writes nothing anywhere.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from neon_sync.emulators.base import Emulator
from neon_sync.emulators.github import GitHubEmulator
from neon_sync.emulators.neon import NeonEmulator
from neon_sync.emulators.server import serve
from neon_sync.emulators.vercel import VercelEmulator
from neon_sync.engine.run import open_run

CONFIG = """\
version: 1
neon:
  project_id: {project_id}
targets:
  local: {{ provider: dotenv, path: .env }}
  repo: {{ provider: github, repository: acme/shop }}
  shop: {{ provider: vercel, project: shop }}
branches:
  - match: "preview/{{name}}"
    sync:
      - target: local
        path: "envs/.env.{{name}}"
        vars: {{ DATABASE_URL: pooled, DIRECT_URL: direct }}
      - target: repo
        environment: "preview-{{name}}"
        vars: {{ DATABASE_URL: pooled }}
      - target: shop
        environment: preview
        git_branch: "{{name}}"
        preset: prisma
"""


def counts(emulators: dict[str, Emulator], since: dict[str, int]) -> str:
    parts = []
    for name, emu in emulators.items():
        entries = emu.log[since[name] :]
        writes = sum(entry.is_write for entry in entries)
        parts.append(f"{name} {len(entries)} requests ({writes} writes)")
    return "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--branches", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds per API request")
    args = parser.parse_args()

    neon = NeonEmulator(api_key="bench", seed=1)
    project_id = neon.add_project("bench-project", name="bench")
    for index in range(args.branches):
        neon.add_branch(project_id, f"preview/b{index:04d}", parent="main")
    github = GitHubEmulator(token="ghp_bench")
    github.add_repo("acme/shop")
    vercel = VercelEmulator(token="vt_bench")
    vercel.add_project("shop")
    emulators: dict[str, Emulator] = {"neon": neon, "github": github, "vercel": vercel}
    for emu in emulators.values():
        emu.latency = args.latency

    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        urls = {name: stack.enter_context(serve(emu.handle)) for name, emu in emulators.items()}
        folder = Path(tmp)
        (folder / "envs").mkdir()
        config = folder / "neon-sync.yaml"
        config.write_text(CONFIG.format(project_id=project_id))
        env = {
            "NEON_API_HOST": urls["neon"] + "/api/v2", "NEON_API_KEY": "bench",
            "GITHUB_API_URL": urls["github"], "GITHUB_TOKEN": "ghp_bench",
            "VERCEL_API_URL": urls["vercel"], "VERCEL_TOKEN": "vt_bench",
        }  # fmt: skip
        print(f"{args.branches} branches, {args.latency * 1000:.0f} ms per request")
        for label in ("first sync", "no-op sync"):
            since = {name: len(emu.log) for name, emu in emulators.items()}
            started = time.perf_counter()
            with open_run(str(config), env, sleep=lambda _s: None) as run:
                outcome = run.sync()
            elapsed = time.perf_counter() - started
            done = Counter(change.action.value for change in outcome.done)
            summary = dict(done) or "no writes"
            print(f"{label:>11}: {elapsed:6.2f} s  {summary}  errors={len(outcome.errors)}")
            print(f"{'':>13}{counts(emulators, since)}")


if __name__ == "__main__":
    main()
