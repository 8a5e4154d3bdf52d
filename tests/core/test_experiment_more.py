"""More experiment behaviours: resume forms, reproducible variants, failed upstream stages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flambe.errors import ExperimentFailed
from tests.core.exp_helpers import lines, progress, run, statuses, write_config

PIPE = """\
model: !XCounter
  label: model
  value: !g [1, 2]
  steps: 1
  log: {log}
trainer: !XCounter
  label: trainer
  upstream: !@ model
  steps: 2
  log: {log}
"""


@pytest.fixture(autouse=True)
def no_terminal_debugger(monkeypatch: pytest.MonkeyPatch) -> None:
    """debug=True runs every variant in this process; its pdb stops need a terminal."""
    from flambe.experiment import trial

    monkeypatch.setattr(trial.pdb, "set_trace", lambda *a, **k: None)


def _labels(log: Path) -> list:
    return [line.split()[0] for line in lines(log)]


def test_resume_one_stage_in_a_list_reuses_only_that_stage(tmp_path: Path) -> None:
    log = tmp_path / "runs.txt"
    run(write_config(tmp_path, PIPE.format(log=log)), debug=True)
    log.unlink()
    # a name would mean "model and every stage before it"; a list means exactly these
    run(write_config(tmp_path, PIPE.format(log=log), top="resume: [trainer]\n"), debug=True)
    assert sorted(set(_labels(log))) == ["model"]
    doc = progress(tmp_path)
    assert set(statuses(doc, "trainer").values()) == {"reused"}
    assert set(statuses(doc, "model").values()) == {"success"}


def test_a_variant_draws_the_same_random_numbers_when_run_again(tmp_path: Path) -> None:
    config = write_config(tmp_path, "m: !XModel\n  width: !g [2, 3]\n", top="seed: 11\n")
    run(config, debug=True)
    out = tmp_path / "out" / "output__exp" / "m"
    import flambe

    first = {
        p.name: flambe.load(str(p / "checkpoint")).linear.weight.clone() for p in out.iterdir()
    }
    run(config, force=True, debug=True)
    second = {p.name: flambe.load(str(p / "checkpoint")).linear.weight for p in out.iterdir()}
    assert first.keys() == second.keys() == {"width=2", "width=3"}
    for name in first:
        assert first[name].equal(second[name]), name  # same seed: same initial weights


def test_a_stage_whose_upstream_lost_every_variant_is_skipped(tmp_path: Path) -> None:
    log = tmp_path / "runs.txt"
    pipeline = f"""\
bad: !XCounter
  label: bad
  fail_at: 1
  log: {log}
next: !XCounter
  label: next
  upstream: !@ bad
  log: {log}
"""
    with pytest.raises(ExperimentFailed, match="bad, next"):
        run(write_config(tmp_path, pipeline, top="stop_on_failure: false\n"))
    doc = progress(tmp_path)
    assert doc["stages"]["bad"]["status"] == "failure"
    assert doc["stages"]["next"]["status"] == "failure"
    assert "next" not in _labels(log)
    (entry,) = doc["stages"]["bad"]["variants"].values()
    assert "planned failure at step 1" in entry["error"]
    assert "\x1b[" not in json.dumps(doc)
