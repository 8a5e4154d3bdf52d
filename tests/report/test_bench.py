"""The 1,000-variant benchmark of bench/bench_report.py, as a test with a generous bound.

The real figures are what ``python bench/bench_report.py`` prints (target: 1 s).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BOUND_S = 5.0


@pytest.mark.timeout(300)
def test_a_thousand_variants_stay_fast(tmp_path: Path, repo_root: Path) -> None:
    sys.path.insert(0, str(repo_root / "bench"))
    try:
        import bench_report
    finally:
        sys.path.remove(str(repo_root / "bench"))
    out = bench_report.build_folder(str(tmp_path), variants=1000, stages=5, points=100)
    times = bench_report.measure(out)
    assert times["overview page"] + times["overview API"] < BOUND_S, times
    assert times["stage page"] + times["stage API (first)"] < BOUND_S, times
    assert times["stage API sorted by metric"] < BOUND_S, times
    assert times["stage curves (cached)"] < times["stage curves (first read)"], times
