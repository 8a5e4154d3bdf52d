"""Helpers shared by the benchmarks: timing and the one-line report format."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence


def median_time(fn: Callable[[], object], repeat: int = 10, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` in seconds."""
    for _ in range(warmup):
        fn()
    times: list[float] = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def median_subprocess(args: Sequence[str], repeat: int = 10) -> float:
    """Median wall time of running a command (output discarded)."""

    def run() -> None:
        subprocess.run(list(args), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    return median_time(run, repeat=repeat, warmup=1)


def median_output(args: Sequence[str], repeat: int = 10) -> float:
    """Median of the number a command prints as its last line (its own timing)."""
    values = []
    for _ in range(repeat):
        out = subprocess.run(list(args), check=True, capture_output=True, text=True).stdout
        values.append(float(out.strip().splitlines()[-1]))
    return statistics.median(values)


def report(
    name: str,
    value: float,
    baseline: float,
    target: str,
    unit: str = "s",
    baseline_name: str = "baseline",
) -> None:
    """Print one figure beside its baseline."""
    print(
        f"{name}: {value:.4f}{unit}  {baseline_name} {baseline:.4f}{unit}  ({target})", flush=True
    )


PYTHON = sys.executable
