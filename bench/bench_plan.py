"""Planning an experiment of 10,000 variants (``flambe plan``).

Figures (median of 3):

* ``plan 10k``: :func:`flambe.cli.plan.make_plan` in this process on an
  experiment whose first stage has 100 variants and whose second stage has
  100 values of its own for each of them (10,100 variants in all): the
  validation ``flambe plan`` includes, loading the config without building
  it, and working out every variant with its identity; target < 2 s;
* ``flambe plan 10k``: the same through the command, in a fresh process
  (imports included), for reference.

Usage: ``python bench/bench_plan.py [values per stage]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from _common import PYTHON, median_time, report  # noqa: E402

TARGET_S = 2.0


def config_text(values: int) -> str:
    """An experiment of ``values`` variants, then ``values`` x ``values`` variants."""
    first = ", ".join(str(i) for i in range(values))
    second = ", ".join(f"{0.001 * (i + 1):.3f}" for i in range(values))
    return (
        "!Experiment\nname: plan_bench\nseed: 1\nmax_variants: 100000\npipeline:\n"
        f"  prep: !Script\n    script: prep\n    kwargs:\n      size: !g [{first}]\n"
        f"  train: !Script\n    script: train\n    kwargs:\n      lr: !g [{second}]\n"
        "      size: !@ prep[kwargs][size]\n"
    )


def main() -> None:
    """Print the figures."""
    from flambe.cli.plan import make_plan

    values = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "plan.yaml")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(config_text(values))
        problems, plan = make_plan(path)
        assert not problems, problems
        total = plan.total
        seconds = median_time(lambda: make_plan(path), repeat=3, warmup=0)
        report(f"plan 10k ({total} variants)", seconds, TARGET_S, f"target < {TARGET_S} s")
        start = time.perf_counter()
        subprocess.run(
            [PYTHON, "-c", "from flambe.cli.main import main; main()", "plan", path, "--json"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        report("flambe plan 10k (fresh process)", time.perf_counter() - start, TARGET_S, "ref")


if __name__ == "__main__":
    main()
