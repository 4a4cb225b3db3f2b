"""First-sync and no-op wall time of `neon-sync sync` against the emulators, with latency on
every request and the services' published rate limits enforced.

    python benchmarks/sync_bench.py [--branches 10 200 1000] [--latency 0.05]

Each case: N preview branches, each to two Vercel preview variables of its Git branch, and
main to GitHub (repository secrets) and a .env file. neon-sync runs as users run it (a child
process, so its peak RSS is its own), against emulators served on loopback in this process.
One JSON line per case: wall seconds of the first sync and of the no-op re-run, requests per
API and method, 429s (GitHub: its 403 rate-limit answers too), peak RSS, and the rate-limit
floor: the least time the run's own requests need under the published limits (Neon's 40 a
second per route and 700 a minute dominate: one password reveal per branch), plus one
latency. Each run starts with fresh limit windows, as CI runs some minutes apart would.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from neon_sync.emulators.base import Emulator, Logged
from neon_sync.emulators.github import GitHubEmulator
from neon_sync.emulators.limits import GITHUB, NEON, VERCEL, Window
from neon_sync.emulators.neon import NeonEmulator
from neon_sync.emulators.server import serve
from neon_sync.emulators.vercel import VercelEmulator
from neon_sync.neon.limiter import Limiter, Limits

CONFIG = """\
version: 1
neon:
  project_id: {project_id}
targets:
  local: {{ provider: dotenv, path: .env }}
  repo: {{ provider: github, repository: acme/shop }}
  shop: {{ provider: vercel, project: shop }}
branches:
  - match: main
    sync:
      - target: local
        vars: {{ DATABASE_URL: pooled, DIRECT_URL: direct }}
      - target: repo
        vars: {{ DATABASE_URL: pooled, DIRECT_URL: direct }}
  - match: "preview/{{name}}"
    sync:
      - target: shop
        environment: preview
        git_branch: "{{name}}"
        vars: {{ DATABASE_URL: pooled, DIRECT_URL: direct }}
"""
LIMITS = {"neon": NEON, "github": GITHUB, "vercel": VERCEL}


def floor_seconds(entries: list[Logged], emu: Emulator, windows: tuple[Window, ...]) -> float:
    """Least time these requests need under `windows`: sent greedily, each as soon as every
    window allows (the limiter's schedule without its safety margin)."""
    per_route = next((w for w in windows if w.per_route), None)
    total = next((w for w in windows if not w.per_route and not w.writes_only), None)
    writes = [w for w in windows if w.writes_only]
    now = [0.0]
    limits = Limits(
        per_route=per_route.limit if per_route else 10**9,
        route_window=per_route.seconds if per_route else 1.0,
        total=total.limit if total else 10**9,
        total_window=total.seconds if total else 1.0,
        guard=0.0,
        start=10**9,
        ceiling=10**9,
    )
    limiter = Limiter(limits, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    for entry in entries:
        if entry.status in (403, 429):
            continue  # refused requests are repeats, not work the run needed
        limiter.acquire(f"{entry.method} {entry.path}" if per_route is None else route(emu, entry))
        limiter.release(200, 0.0)
    floor = now[0]
    count = sum(entry.is_write for entry in entries if entry.status not in (403, 429))
    for window in writes:  # GitHub's content-creation windows: whole windows to wait out
        floor = max(floor, (max(0, count - 1) // window.limit) * window.seconds)
    return floor


def route(emu: Emulator, entry: Logged) -> str:
    for method, pattern, _handler in emu._routes:
        if method == entry.method and pattern.match(entry.path):
            return f"{method} {pattern.pattern}"
    return f"{entry.method} {entry.path}"


def run_case(branches: int, latency: float) -> dict[str, Any]:
    neon = NeonEmulator(api_key="bench", seed=1)
    project_id = neon.add_project("bench-project", name="bench")
    for index in range(branches):
        neon.add_branch(project_id, f"preview/b{index:04d}", parent="main")
    github = GitHubEmulator(token="ghp_bench")
    github.add_repo("acme/shop")
    vercel = VercelEmulator(token="vt_bench")
    vercel.add_project("shop")
    emulators: dict[str, Emulator] = {"neon": neon, "github": github, "vercel": vercel}
    for name, emu in emulators.items():
        emu.latency = latency
        emu.enforce_limits(LIMITS[name])

    out: dict[str, Any] = {"branches": branches, "latency_s": latency}
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        urls = {name: stack.enter_context(serve(emu.handle)) for name, emu in emulators.items()}
        config = Path(tmp) / "neon-sync.yaml"
        config.write_text(CONFIG.format(project_id=project_id))
        env = {
            **os.environ,
            "NEON_API_HOST": urls["neon"] + "/api/v2", "NEON_API_KEY": "bench",
            "GITHUB_API_URL": urls["github"], "GITHUB_TOKEN": "ghp_bench",
            "VERCEL_API_URL": urls["vercel"], "VERCEL_TOKEN": "vt_bench",
            "GITHUB_ACTIONS": "", "COLUMNS": "120",
        }  # fmt: skip
        for label in ("first_sync", "noop"):
            for emu in emulators.values():
                assert emu.limits is not None
                emu.limits.reset()
            since = {name: len(emu.log) for name, emu in emulators.items()}
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "neon_sync", "sync", "--json", "--config", str(config)],
                capture_output=True,
                text=True,
                env=env,
                cwd=tmp,
                check=False,
            )
            elapsed = time.perf_counter() - started
            if done.returncode != 0:
                raise SystemExit(f"{label} failed ({done.returncode}): {done.stderr[-2000:]}")
            logs = {name: emu.log[since[name] :] for name, emu in emulators.items()}
            floors = {
                name: floor_seconds(logs[name], emulators[name], LIMITS[name]) for name in logs
            }
            out[label] = {
                "seconds": round(elapsed, 2),
                "rate_limit_floor_s": round(max(floors.values()) + latency, 2),
                "requests": {
                    name: dict(sorted(Counter(e.method for e in entries).items()))
                    for name, entries in logs.items()
                },
                "writes": sum(e.is_write for entries in logs.values() for e in entries),
                "throttled": {
                    name: sum(e.status == 429 or (name == "github" and e.status == 403) for e in es)
                    for name, es in logs.items()
                },
                "changes": dict(
                    sorted(Counter(c["action"] for c in json.loads(done.stdout)["changes"]).items())
                ),
            }
            out[label]["vs_floor"] = round(elapsed / out[label]["rate_limit_floor_s"], 2)
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--branches", type=int, nargs="+", default=[10, 200, 1000])
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per API request")
    args = parser.parse_args()
    for branches in args.branches:
        print(json.dumps(run_case(branches, args.latency)), flush=True)


if __name__ == "__main__":
    main()
