"""Start-up time of `neon-sync --version` and `neon-sync --help` beside a bare interpreter.

    python benchmarks/startup.py [--runs 20]

Runs the three commands interleaved (so machine load hits all alike), takes the median wall
time of each and prints one JSON line with the ratios. Targets: --version within 2x, --help
within 3x of `python -c pass`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def entry_point() -> list[str]:
    """The installed `neon-sync` script beside this interpreter, as users run it."""
    found = Path(sys.executable).with_name("neon-sync")
    if found.exists():
        return [str(found)]
    which = shutil.which("neon-sync")
    if which is None:
        raise SystemExit("neon-sync is not installed in this environment")
    return [which]


def wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, env={"COLUMNS": "80"})
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "neon-sync --version": [*entry_point(), "--version"],
        "neon-sync --help": [*entry_point(), "--help"],
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, command in cases.items():
            times[name].append(wall(command))
    median = {name: statistics.median(values) for name, values in times.items()}
    bare = median["python -c pass"]
    print(
        json.dumps(
            {
                "runs": args.runs,
                "median_seconds": {name: round(value, 4) for name, value in median.items()},
                "version_ratio": round(median["neon-sync --version"] / bare, 2),
                "help_ratio": round(median["neon-sync --help"] / bare, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
