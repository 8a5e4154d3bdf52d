"""Which executor a stage gets, and why (what `flambe plan` shows and the engine uses)."""

from __future__ import annotations

import pytest

from flambe.errors import ConfigError
from flambe.experiment.executors import RunOptions, choose_executor


def experiment(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {"search": {}, "schedulers": {}, "executor": "auto"}
    base.update(fields)
    return base


def test_auto_runs_a_grid_locally_and_one_variant_in_process() -> None:
    assert choose_executor("train", experiment())[0] == "local"
    name, reason = choose_executor("train", experiment(), count=1)
    assert name == "in_process" and "one variant" in reason


def test_auto_uses_ray_for_schedulers_search_and_clusters() -> None:
    name, reason = choose_executor("train", experiment(schedulers={"train": object()}))
    assert name == "ray" and "scheduler" in reason
    assert choose_executor("train", experiment(search={"train": object()}))[0] == "ray_search"
    name, reason = choose_executor("train", experiment(), RunOptions(ray_address="127.0.0.1:1"))
    assert name == "ray" and "127.0.0.1:1" in reason
    assert choose_executor("train", experiment(ray_address="127.0.0.1:1"))[0] == "ray"
    assert choose_executor("train", experiment(), RunOptions(cluster=True))[0] == "ray"
    # a stage without search or scheduler is not touched by another stage's
    assert choose_executor("eval", experiment(schedulers={"train": object()}))[0] == "local"


def test_the_command_line_wins_over_the_config() -> None:
    assert choose_executor("train", experiment(executor="local"), RunOptions("ray"))[0] == "ray"
    assert choose_executor("train", experiment(executor="ray"))[0] == "ray"
    assert choose_executor("train", experiment(), RunOptions(debug=True))[0] == "in_process"


def test_local_cannot_run_a_scheduler() -> None:
    with pytest.raises(ConfigError, match="scheduler needs Ray Tune"):
        choose_executor("train", experiment(schedulers={"train": object()}, executor="local"))


def test_an_unknown_executor_is_a_configuration_error(tmp_path) -> None:
    from tests.core.exp_helpers import load, write_config

    config = write_config(tmp_path, "a: !XCounter {}\n", top="executor: lcoal\n")
    with pytest.raises(ConfigError, match="(?s)unknown executor .lcoal.*auto, in_process, local"):
        load(config)


def test_local_with_a_scheduler_is_refused_when_the_experiment_is_built(tmp_path) -> None:
    from tests.core.exp_helpers import load, write_config

    config = write_config(
        tmp_path,
        "a: !XCounter {}\n",
        top="executor: local\nschedulers:\n  a: !ray.FIFOScheduler {}\n",
    )
    with pytest.raises(ConfigError, match="executor: local cannot run stage 'a'"):
        load(config)
