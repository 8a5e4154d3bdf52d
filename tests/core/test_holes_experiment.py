"""Seeds, best scores and non-finite metrics of experiment variants.

* ``!s`` draws follow the experiment's ``seed``: the same seed draws the
  same values, another seed other values;
* each variant seeds Python, NumPy and torch from the experiment's seed
  and its own identity: different variants draw different numbers;
* a variant's score is its best over all steps (what ``reduce`` and resume
  use), not its last;
* a NaN or infinite metric fails the variant: it is never ranked.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

import tests.core.holes_components  # noqa: F401  (registers !XSeries, !XDraw)
from flambe.compile.serialization import load_state_from_file
from flambe.errors import ExperimentFailed
from flambe.experiment.trial import TrialPlan, TrialRunner, read_trial
from tests.core.exp_helpers import progress, run, statuses, write_config


@pytest.fixture(autouse=True)
def no_terminal_debugger(monkeypatch: pytest.MonkeyPatch) -> None:
    """``debug`` runs every variant in this process; its pdb stops need a terminal: skip them."""
    import flambe.experiment.trial as trial

    monkeypatch.setattr(trial.pdb, "set_trace", lambda *a, **k: None)


def _params(folder: Path, stage: str, key: str) -> list[Any]:
    doc = progress(folder)
    return sorted(v["params"][key] for v in doc["stages"][stage]["variants"].values())


# -- 1. !s draws follow the experiment seed ------------------------------------------------------


def test_sampled_values_follow_the_experiment_seed(tmp_path: Path) -> None:
    pipeline = "t: !XDraw\n  tag: !s [0.0, 1000.0, 3]\n"
    drawn: dict[str, list[float]] = {}
    for label, seed in (("first", 5), ("again", 5), ("other", 6)):
        folder = tmp_path / label
        folder.mkdir()
        run(write_config(folder, pipeline, top=f"seed: {seed}\n"), debug=True)
        drawn[label] = _params(folder, "t", "tag")
        assert len(set(drawn[label])) == 3 and all(0 <= v <= 1000 for v in drawn[label])
    assert drawn["again"] == drawn["first"]  # the same seed draws the same values
    assert drawn["other"] != drawn["first"]  # another seed, other values


# -- 5. different variants get different seeds ---------------------------------------------------


def _drawn(folder: Path, stage: str) -> dict[str, list[float]]:
    out = folder / "out" / "output__exp" / stage
    return {
        p.name: list(load_state_from_file(str(p / "checkpoint"))["drawn"])
        for p in sorted(out.iterdir())
    }


def test_each_variant_draws_its_own_random_numbers(tmp_path: Path) -> None:
    pipeline = "t: !XDraw\n  tag: !g [1.0, 2.0, 3.0]\n"
    first = tmp_path / "first"
    first.mkdir()
    run(write_config(first, pipeline, top="seed: 8\n"), debug=True)
    drawn = _drawn(first, "t")
    assert len(drawn) == 3
    for source in range(3):  # Python's random, NumPy and torch: each seeded per variant
        values = [numbers[source] for numbers in drawn.values()]
        assert len(set(values)) == 3, (source, drawn)
    again = tmp_path / "again"
    again.mkdir()
    run(write_config(again, pipeline, top="seed: 8\n"), debug=True)
    assert _drawn(again, "t") == drawn  # and each draws the same numbers when run again
    other = tmp_path / "other"
    other.mkdir()
    run(write_config(other, pipeline, top="seed: 9\n"), debug=True)
    assert all(_drawn(other, "t")[name] != drawn[name] for name in drawn)


# -- 4. a variant's best score across steps ------------------------------------------------------


@pytest.mark.parametrize(
    "mode, rising_then_falling, steady",
    [
        ("max", [1.0, 5.0, 0.0], [2.0, 2.0, 2.0]),  # best 5 (last 0) beats a steady 2
        ("min", [3.0, 1.0, 9.0], [2.0, 2.0, 2.0]),  # best 1 (last 9) beats a steady 2
    ],
)
def test_reduce_ranks_variants_by_their_best_step(
    tmp_path: Path, mode: str, rising_then_falling: list[float], steady: list[float]
) -> None:
    config = write_config(
        tmp_path,
        f"""\
        t: !XSeries
          values: !g [{rising_then_falling}, {steady}]
          mode: {mode}
        """,
        top="reduce: {t: 1}\n",
    )
    run(config, debug=True)
    doc = progress(tmp_path)
    entries = {str(v["params"]["values"]): v for v in doc["stages"]["t"]["variants"].values()}
    peaked, flat = entries[str(rising_then_falling)], entries[str(steady)]
    assert (peaked["status"], flat["status"]) == ("success", "reduced")
    best = max(rising_then_falling) if mode == "max" else min(rising_then_falling)
    assert peaked["best_metric"] == best and peaked["last_metric"] == rising_then_falling[-1]
    record = read_trial(str(tmp_path / "out" / "output__exp" / "t" / peaked["name"]))
    assert record["best_score"] == (best if mode == "max" else -best)


def test_the_best_score_survives_a_resume(tmp_path: Path) -> None:
    plan = TrialPlan(
        stage="t",
        variant={"id": "v1", "name": "v", "params": {}},
        configs={"t": "!XSeries\nvalues: [1.0, 5.0, 0.0]\n"},
        checkpoints={},
        variant_dir=str(tmp_path / "v"),
        seed=1,
    )
    runner = TrialRunner(plan, resume=False)
    runner.run_step()
    runner.run_step()
    assert runner.best_score == 5.0
    resumed = TrialRunner(plan, resume=True)  # as after a crash: continues from step 2
    assert resumed.step == 2 and resumed.best_score == 5.0
    done, metric, score = resumed.run_step()
    assert done and metric == 0.0 and score == 0.0
    assert resumed.best_score == 5.0 and read_trial(plan.variant_dir)["best_score"] == 5.0


# -- 6. a NaN or infinite metric fails the variant -----------------------------------------------


def _strict_json(path: Path) -> dict[str, Any]:
    def refuse(name: str) -> None:
        raise AssertionError(f"{path} holds {name}, which is not JSON")

    return json.loads(path.read_text(), parse_constant=refuse)


@pytest.mark.parametrize("mode", ["max", "min"])
def test_a_non_finite_metric_fails_the_variant_and_is_never_ranked(
    tmp_path: Path, mode: str
) -> None:
    config = write_config(
        tmp_path,
        f"""\
        t: !XSeries
          values: !g [[1.0, .nan], [1.0, .inf], [1.0, -.inf], [2.0, 3.0]]
          mode: {mode}
        after: !XSeries
          values: [!@ t.step]
        """,
        top="reduce: {t: 1}\nstop_on_failure: false\n",
    )
    with pytest.raises(ExperimentFailed):
        run(config, debug=True)
    output = tmp_path / "out" / "output__exp"
    doc = _strict_json(output / "progress.json")  # no NaN or Infinity written for readers
    variants = doc["stages"]["t"]["variants"].values()
    by_values = {str(v["params"]["values"]): v for v in variants}
    finite = by_values[str([2.0, 3.0])]
    assert finite["status"] == "success"  # the only one ranked, so kept by reduce
    for entry in variants:
        if entry is finite:
            continue
        assert entry["status"] == "failure"
        assert "metric() returned" in entry["error"] and "at step 2" in entry["error"]
        assert entry["best_metric"] in (1.0, None)  # the finite step 1, never the bad one
        record = read_trial(str(output / "t" / entry["name"]))
        assert record["step"] == 1 and math.isfinite(record["best_score"])
    assert {"nan", "inf", "-inf"} <= {
        e["error"].split("metric() returned ")[1].split()[0] for e in variants if e is not finite
    }
    assert list(statuses(doc, "after").values()) == ["success"]  # fed by the finite one only
    assert doc["stages"]["t"]["status"] == "failure"
