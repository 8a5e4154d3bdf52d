"""Ray 1-era arguments of ``!ray.`` schedulers and search algorithms, in configs for Flambé 0.4."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from flambe.compile import yaml
from flambe.errors import ArgumentError
from tests.core.exp_helpers import progress, run, statuses, write_config


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_reward_attr_is_dropped_with_one_warning_naming_what_replaced_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    text = "!ray.HyperBandScheduler\nreward_attr: accuracy\nmax_t: 7\n"
    with caplog.at_level(logging.WARNING, logger="flambe"):
        schema = yaml.load(text, file="legacy-hyperband.yaml")
        scheduler = schema()
    from ray.tune.schedulers import HyperBandScheduler

    assert isinstance(scheduler, HyperBandScheduler)
    assert scheduler._max_t_attr == 7  # the arguments Ray 2 still takes are kept
    said = [m for m in _warnings(caplog) if "reward_attr" in m]
    assert len(said) == 1, said
    assert "legacy-hyperband.yaml:2" in said[0] and "metric and mode" in said[0]
    # the same file loaded again (validate, then run) does not say it twice
    with caplog.at_level(logging.WARNING, logger="flambe"):
        yaml.load(text, file="legacy-hyperband.yaml")
    assert len([m for m in _warnings(caplog) if "reward_attr" in m]) == 1


def test_metric_and_mode_are_flambes_own(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="flambe"):
        scheduler = yaml.load(
            "!ray.ASHAScheduler {metric: acc, mode: min, max_t: 9}", file="legacy-asha.yaml"
        )()
    # Ray would refuse a scheduler whose metric is set twice (here and by Flambé's Tune run)
    assert scheduler._metric is None and scheduler._mode is None and scheduler._max_t == 9
    assert {m.split("'")[1] for m in _warnings(caplog) if "is ignored" in m} == {"metric", "mode"}


def test_max_concurrent_on_a_searcher_is_refused_with_the_config_that_does_it() -> None:
    pytest.importorskip("optuna")
    with pytest.raises(ArgumentError) as info:
        yaml.load("!ray.OptunaSearch\nseed: 3\nmax_concurrent: 2\n", file="legacy-optuna.yaml")
    error = info.value
    assert "max_concurrent" in str(error)
    assert error.location is not None and error.location.line == 3
    assert "ConcurrencyLimiter" in (error.hint or "")


def test_components_outside_ray_keep_arguments_of_the_same_names() -> None:
    counter = yaml.load("!XCounter {label: a, mode: min}", file="own.yaml")()
    assert counter.metric_mode == "min"


@pytest.mark.slow
def test_a_hyperband_stage_written_for_ray_1_runs(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        """\
        count: !XCounter
          label: !g [a, b]
          steps: 3
        """,
        top="schedulers:\n  count: !ray.HyperBandScheduler {reward_attr: accuracy, max_t: 3}\n",
    )
    run(config)
    doc = progress(tmp_path)
    assert set(statuses(doc, "count").values()) == {"success"}
