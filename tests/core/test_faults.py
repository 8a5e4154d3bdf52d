"""Fault injection: kill -9 at random instants and at exact windows, then rerun.

A short variant runs in CI; the long one (many seeds, a Ray stage with
reduce, every fault point on its own) is marked ``faults`` and runs with
``bash scripts/test -m faults``. Every run is a real ``flambe run`` process
killed with SIGKILL (see :mod:`tests.core.fault_harness`). After each kill:
every committed checkpoint loads and matches its record, ``progress.json``
and ``trial.json`` parse; after the final rerun: no finished variant ran
again, no temporary folder or uncommitted checkpoint is left, and every
variant's history of metrics (one per step) equals that of an
uninterrupted run with the same seed: no step lost, repeated or shifted.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.core.fault_harness import (
    check_readable,
    finish,
    kill_at_random,
    leftovers,
    log_text,
    output_of,
    run_to_end,
    start,
    write_experiment,
)

# three stages in the driver process (a chain of upstream links)
IN_PROCESS = """\
a: !flambe_fault_ext.FaultTrainer
  lr: 0.05
  steps: 8
  delay: 0.03
b: !flambe_fault_ext.FaultTrainer
  lr: 0.02
  steps: 6
  delay: 0.03
  upstream: !@ a
c: !flambe_fault_ext.FaultTrainer
  lr: 0.07
  steps: 4
  delay: 0.03
  upstream: !@ b
"""

# a stage of three variants on Ray Tune, reduced to the best one, then a stage after it
ON_RAY = (
    IN_PROCESS.split("c: ")[0]
    + """\
r: !flambe_fault_ext.FaultTrainer
  lr: !g [0.011, 0.012, 0.013]
  steps: 5
  delay: 0.05
  upstream: !@ a
z: !flambe_fault_ext.FaultTrainer
  lr: 0.09
  steps: 3
  upstream: !@ r
"""
)
# the Ray path under kills (the local pool's kills are in test_executor_local)
REDUCE = "reduce:\n  r: 1\nexecutor: ray\n"

# windows random kills rarely hit, each on its own visit count so that the run gets that far
EXACT = [
    "checkpoint.saved@3",
    "checkpoint.written@2",
    "checkpoint.committed@4",
    "trial.committed@2",
    "atomic.replace:progress.json@6",
    "atomic.replace:trial.json@3",
    "atomic.written@5",
]


def reference(tmp_path: Path, pipeline: str, top: str = "") -> dict[str, dict[str, Any]]:
    """The committed variants of an uninterrupted run (same config, same seed)."""
    folder = tmp_path / "reference"
    folder.mkdir()
    config = write_experiment(folder, pipeline, top=top)
    run_to_end(config)
    return check_readable(output_of(config))


def final_metrics(output: Path) -> dict[str, Any]:
    doc = json.loads((output / "progress.json").read_text())
    return {
        f"{stage}/{v['name']}": (v["status"] in ("success", "reused"), v["last_metric"])
        for stage, info in doc["stages"].items()
        for v in info["variants"].values()
        if v["status"] != "reduced"
    }


def assert_like_reference(output: Path, expected: dict[str, dict[str, Any]]) -> None:
    got = check_readable(output)
    assert {k: v["history"] for k, v in got.items()} == {
        k: v["history"] for k, v in expected.items()
    }
    assert all(v["done"] for v in got.values())
    assert leftovers(output) == []
    doc = json.loads((output / "progress.json").read_text())
    assert doc["status"] == "success"
    for key, (ok, metric) in final_metrics(output).items():
        assert ok and metric == expected[key]["metric"], (key, metric)


def run_planned_faults(folder: Path, pipeline: str, plans: list[str], top: str = "") -> Path:
    """One run per planned fault, each resuming the last; then a run to the end."""
    config = write_experiment(folder, pipeline, top=top)
    for plan in plans:
        code = finish(start(config, {"FLAMBE_FAULTS": f"{plan}=kill"}))
        assert code == -9, f"{plan}: the run was not killed (exit {code})\n{log_text(config)}"
        check_readable(output_of(config))
    run_to_end(config)
    return output_of(config)


# -- CI: the short variant ----------------------------------------------------------------------


@pytest.mark.timeout(300)
def test_kills_at_exact_windows_and_random_instants_lose_and_repeat_nothing(tmp_path: Path) -> None:
    expected = reference(tmp_path, IN_PROCESS)
    assert set(expected) == {"a/default", "b/default", "c/default"}

    exact = tmp_path / "exact"
    exact.mkdir()
    assert_like_reference(run_planned_faults(exact, IN_PROCESS, EXACT[:4]), expected)

    rng = random.Random(2024)
    killed = tmp_path / "killed"
    killed.mkdir()
    config = write_experiment(killed, IN_PROCESS)
    seen = kill_at_random(config, rng, killed / "steps.log", low=0.0, high=1.5, kills=3)
    assert len(seen) >= 2, "no kill landed before the run finished"
    assert_like_reference(output_of(config), expected)


# -- the long variant: bash scripts/test -m faults ----------------------------------------------


@pytest.mark.faults
@pytest.mark.timeout(1800)
@pytest.mark.parametrize(
    "plan",
    EXACT + ["checkpoint.saved@1", "atomic.replace:run.json", "atomic.replace:experiment.yaml"],
)
def test_each_fault_point_alone(tmp_path: Path, plan: str) -> None:
    expected = reference(tmp_path, IN_PROCESS)
    folder = tmp_path / "faulted"
    folder.mkdir()
    assert_like_reference(run_planned_faults(folder, IN_PROCESS, [plan]), expected)


@pytest.mark.faults
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("seed", range(8))
def test_random_kills_over_many_seeds(tmp_path: Path, seed: int) -> None:
    expected = reference(tmp_path, IN_PROCESS)
    rng = random.Random(seed)
    folder = tmp_path / "killed"
    folder.mkdir()
    config = write_experiment(folder, IN_PROCESS)
    kill_at_random(config, rng, folder / "steps.log", low=0.0, high=2.0, kills=8)
    assert_like_reference(output_of(config), expected)


@pytest.mark.faults
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("seed", range(3))
def test_random_kills_with_a_ray_stage_and_reduce(tmp_path: Path, seed: int) -> None:
    expected = reference(tmp_path, ON_RAY, top=REDUCE)
    rng = random.Random(100 + seed)
    folder = tmp_path / "killed"
    folder.mkdir()
    config = write_experiment(folder, ON_RAY, top=REDUCE)
    kill_at_random(config, rng, folder / "steps.log", low=0.0, high=8.0, kills=5)
    output = output_of(config)
    got = check_readable(output)
    assert {k: v["history"] for k, v in got.items()} == {
        k: v["history"] for k, v in expected.items()
    }
    assert leftovers(output) == []
    assert json.loads((output / "progress.json").read_text())["status"] == "success"
    shutil.rmtree(output / ".tune", ignore_errors=True)
