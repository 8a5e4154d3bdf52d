"""A stage driven by a search algorithm (Optuna): values proposed trial by trial, on Ray Tune."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ray.tune.search import Searcher

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


class ListedValues(Searcher):
    """A search algorithm that is not Ray's: it proposes the choices it was given, in order.

    It implements Ray Tune's ``Searcher`` interface; a plugin declares it
    with the ``flambe_search_algorithms`` hook and a config names it
    ``!search.Listed``. A ``!choice`` option receives the index of a choice.
    """

    def __init__(self, steps: list[int]) -> None:
        super().__init__()
        self.todo = list(steps)

    def set_search_properties(
        self, metric: str | None, mode: str | None, config: dict[str, Any], **spec: Any
    ) -> bool:
        return True  # the stage's space is the options of its config

    def suggest(self, trial_id: str) -> dict[str, int] | None:
        return {"steps": self.todo.pop(0)} if self.todo else Searcher.FINISHED

    def on_trial_complete(self, trial_id: str, result: Any = None, error: bool = False) -> None:
        pass


class SearchPlugin:
    from flambe.plugins import hookimpl

    @hookimpl
    def flambe_search_algorithms(self) -> dict[str, str]:
        return {"Listed": "tests.core.test_experiment_search:ListedValues"}


def test_a_plugin_adds_a_search_algorithm_that_is_not_ray(tmp_path: Path) -> None:
    from flambe.plugins.manager import PluginHost, create_plugin_manager, set_host

    previous = set_host(
        PluginHost(*create_plugin_manager(extra_plugins=[("listed", SearchPlugin())]))
    )
    try:
        config = write_config(
            tmp_path,
            """\
            model: !XModel
              width: 2
            train: !XTrainer
              model: !@ model
              steps: !choice [1, 2, 3]
            """,
            top="search:\n  train: !search.Listed {steps: [1, 2]}\nnum_samples:\n  train: 2\n",
        )
        run(config)
    finally:
        set_host(previous)
    trials = progress(tmp_path)["stages"]["train"]["variants"].values()
    assert sorted(t["params"]["steps"] for t in trials) == [2, 3]  # what the plugin proposed
    assert all(t["status"] == "success" for t in trials)
