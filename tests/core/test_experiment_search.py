"""A stage driven by a search algorithm (Optuna): values proposed trial by trial, on Ray Tune."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.core.exp_helpers import progress, run, write_config

pytest.importorskip("optuna", reason="optuna is a test requirement (pyproject.toml)")


@pytest.mark.slow
def test_optuna_proposes_values_and_the_best_trial_feeds_the_next_stage(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        """\
        model: !XModel
          width: 2
        train: !XTrainer
          model: !@ model
          lr: !loguniform [0.01, 1.0]
          steps: !randint [1, 3]
        eval: !XEvaluator
          model: !@ train.model
        """,
        top="search:\n  train: !ray.OptunaSearch {seed: 3}\nnum_samples:\n  train: 3\n"
        "reduce:\n  train: 1\n",
    )
    run(config)
    doc = progress(tmp_path)
    trials = doc["stages"]["train"]["variants"]
    assert len(trials) == 3
    for entry in trials.values():
        assert 0.01 <= entry["params"]["lr"] <= 1.0 and entry["params"]["steps"] in (1, 2, 3)
        assert entry["status"] in ("success", "reduced")
    best = max(trials.values(), key=lambda v: v["best_metric"])
    assert best["status"] == "success"
    assert sum(v["status"] == "success" for v in trials.values()) == 1
    # the kept trial's own folder holds its values and checkpoint
    folder = tmp_path / "out" / "output__exp" / "train" / best["name"]
    variant = json.loads((folder / "variant.json").read_text())
    assert variant["params"] == best["params"]
    assert (folder / "checkpoint" / "config.yaml").exists()
    (evaluation,) = doc["stages"]["eval"]["variants"].values()
    assert evaluation["status"] == "success"
    assert evaluation["params"]["lr"] == best["params"]["lr"]  # the kept trial's lineage
