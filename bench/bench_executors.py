"""Speed of the local executor beside Ray (issue: small experiments finish in seconds).

``examples/moons.yaml`` (4 variants of a small MLP, 6 steps each, then one
evaluation) run end to end with ``flambe run``, imports included, once with
the default executor (``auto``: its grid runs on a pool of local worker
processes) and once with ``--executor ray``, alternately, in a fresh output
folder each time. Target: ``auto`` in at most 40% of the time of ``ray``.

Run: ``python bench/bench_executors.py [repeats]`` (or ``bash scripts/bench executors``).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import PYTHON, report  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, "examples", "moons.yaml")


def run_moons(executor: str, folder: str) -> float:
    """Seconds ``flambe run examples/moons.yaml --executor EXECUTOR`` takes, end to end."""
    shutil.rmtree(os.path.join(folder, "flambe-output"), ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    start = time.perf_counter()
    subprocess.run(
        [PYTHON, "-m", "flambe.cli", "run", CONFIG, "--executor", executor],
        cwd=folder,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main() -> None:
    """Time both executors alternately and print the medians side by side."""
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    times: dict[str, list[float]] = {"auto": [], "ray": []}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(repeats):
            for executor in times:  # alternate, so both see the same load
                times[executor].append(run_moons(executor, folder))
    auto, ray = statistics.median(times["auto"]), statistics.median(times["ray"])
    print(f"moons, 4 variants: auto {auto:.1f}s  ray {ray:.1f}s  ({auto / ray:.0%} of ray)")
    report(
        "moons with executor auto (local pool)",
        auto,
        ray,
        f"target <= 40% of ray: {auto / ray:.0%}",
        baseline_name="executor ray",
    )


if __name__ == "__main__":
    main()
