"""A non-finite metric on Ray Tune: the trial fails, and its scheduler never sees the value."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from flambe.errors import ExperimentFailed
from tests.core.exp_helpers import load, progress, write_config
from tests.core.holes_components import recording_scheduler

pytest.importorskip("ray")


@pytest.mark.slow
def test_a_non_finite_metric_fails_the_trial_before_its_scheduler_sees_it(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        """\
        t: !XSeries
          values: !g [[1.0, .nan, 4.0], [2.0, 3.0, 1.0]]
        """,
        top="reduce: {t: 1}\nstop_on_failure: false\n",
    )
    experiment = load(config)
    log = tmp_path / "scheduler.txt"
    experiment.schedulers["t"] = recording_scheduler(str(log))  # Ray Tune runs the stage
    with pytest.raises(ExperimentFailed):
        experiment.run()
    seen = [line.rsplit(" ", 1) for line in log.read_text().splitlines()]
    assert seen, "the scheduler saw no result"
    assert all(math.isfinite(float(score)) for _, score in seen), seen
    steps = {}
    for name, _ in seen:
        steps[name] = steps.get(name, 0) + 1
    assert steps == {"values=_1.0,_nan,_4.0_": 1, "values=_2.0,_3.0,_1.0_": 3}
    doc = progress(tmp_path)
    status = {v["name"]: v["status"] for v in doc["stages"]["t"]["variants"].values()}
    assert status == {"values=_1.0,_nan,_4.0_": "failure", "values=_2.0,_3.0,_1.0_": "success"}
    errors = [v["error"] for v in doc["stages"]["t"]["variants"].values() if v["error"]]
    assert len(errors) == 1 and "metric() returned nan at step 2" in errors[0]
