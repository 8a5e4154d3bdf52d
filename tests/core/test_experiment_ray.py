"""Experiments on Ray Tune: multi-variant stages, reduce, schedulers, retries, failures.

Ray is started once for the module (the engine reuses a connected Ray and
leaves it running); each experiment checks several behaviours so that the
module stays short on a small machine.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import pytest

import flambe
from flambe.errors import ExperimentFailed
from tests.core.exp_helpers import (  # noqa: F401  (fixtures: recorder, local_ray)
    Recorder,
    lines,
    local_ray,
    progress,
    recorder,
    run,
    variants,
    write_config,
)

ray = pytest.importorskip("ray")


@pytest.mark.slow
def test_grid_inheritance_reduce_and_events_on_ray(tmp_path: Path, recorder: Recorder) -> None:
    # E12, E15, E16 with a lower-is-better metric (§10 item 2), E17-E20, events order
    out = tmp_path / "ev.txt"
    config = write_config(
        tmp_path,
        f"""\
        model: !XModel
          width: !g [1, 2]
        train: !XTrainer
          model: !@ model
          lr: !g [0.1, -0.2]
          steps: 3
          lower_is_better: true
        ev: !XEvaluator
          model: !@ train.model
          out: {out}
        """,
        top="reduce: {train: 2}\nseed: 0\n",
    )
    run(config, executor="ray")
    assert ray.is_initialized()  # the engine leaves a Ray it did not start running
    doc = progress(tmp_path)
    assert doc["status"] == "success"
    model = variants(doc, "model")
    assert set(model) == {"width=1", "width=2"}
    assert all(v["best_metric"] is None and v["status"] == "success" for v in model.values())
    train = variants(doc, "train")
    assert len(train) == 4 and all(v["step"] == 3 for v in train.values())
    # metric lr * width * steps, lower is better: the negative learning rates win
    kept = {n for n, v in train.items() if v["status"] == "success"}
    assert kept == {"width=1,lr=-0.2", "width=2,lr=-0.2"}
    assert {n for n, v in train.items() if v["status"] == "reduced"} == {
        "width=1,lr=0.1",
        "width=2,lr=0.1",
    }
    assert train["width=2,lr=-0.2"]["best_metric"] == pytest.approx(-1.2)
    # the evaluators ran for the kept variants only, each on its own trained model
    assert set(variants(doc, "ev")) == kept
    root = tmp_path / "out" / "output__exp"
    assert sorted(p.name for p in (root / "ev").iterdir()) == sorted(kept)
    seen = sorted(lines(out))
    expected = []
    for name in sorted(kept):
        trained = flambe.load(str(root / "train" / name / "checkpoint"))
        assert trained.done_steps == 3
        expected.append(f"{trained.model.width} {float(trained.model.linear.weight.sum()):.4f}")
    assert seen == sorted(expected)
    # events: per stage, results and checkpoints between its start and finish
    names = recorder.names()
    assert names[0] == "experiment_started" and names[-1] == "experiment_finished"
    order = [(n, e["stage"]) for n, e in recorder.events if n.startswith("stage_")]
    assert order == [
        (n, s) for s in ("model", "train", "ev") for n in ("stage_started", "stage_finished")
    ]
    start = names.index("stage_started", 1 + names.index("stage_finished"))
    end = names.index("stage_finished", start)
    inside = names[start + 1 : end]
    assert inside.count("trial_result") == 12 and inside.count("checkpoint_written") == 12
    results = [e["result"] for n, e in recorder.events[start:end] if n == "trial_result"]
    assert all(r["metric"] is not None and r["score"] == -r["metric"] for r in results)


@pytest.mark.slow
def test_schedulers_retries_and_failures_on_ray(tmp_path: Path, caplog: Any) -> None:
    # E21, E22, E24: schedulers from the config (metric and mode set by the engine),
    # a trial failing once is retried from its checkpoint, one always failing does not
    # stop the others with stop_on_failure false
    log = tmp_path / "runs.txt"
    config = write_config(
        tmp_path,
        f"""\
        asha: !XCounter
          label: !g [a1, a2, a3, a4]
          value: !g [1]
          steps: 4
          log: {log}
          fail_at: 3
          fail_once: {tmp_path}/failed-{{label}}
        hyper: !XCounter
          label: !g [h1, h2, h3, h4]
          steps: 4
          log: {log}
        broken: !XCounter
          label: b
          fail_at: 2
          steps: !g [1, 2]
          log: {log}
        """,
        top="""\
        schedulers:
          asha: !ray.ASHAScheduler {max_t: 4, grace_period: 1}
          hyper: !ray.HyperBandScheduler {max_t: 4}
        max_failures: 1
        stop_on_failure: false
        """,
    )
    with caplog.at_level(logging.ERROR, logger="flambe"), pytest.raises(ExperimentFailed):
        run(config, executor="ray")
    doc = progress(tmp_path)
    runs = lines(log)
    # retried from the last checkpoint: steps 1-2 ran once, then 3 and 4 (or fewer if stopped)
    for label in ("a1", "a2", "a3", "a4"):
        steps = [int(line.split()[1]) for line in runs if line.split()[0] == label]
        assert steps == list(range(1, len(steps) + 1)), (label, steps)
        assert (tmp_path / f"failed-{label}").exists() or len(steps) < 3
    asha = variants(doc, "asha")
    assert all(v["status"] == "success" for v in asha.values()), asha
    assert max(v["step"] for v in asha.values()) == 4
    hyper = variants(doc, "hyper")
    assert all(v["status"] == "success" for v in hyper.values())
    assert max(v["step"] for v in hyper.values()) == 4
    broken = variants(doc, "broken")
    assert {n: v["status"] for n, v in broken.items()} == {
        "steps=1": "success",
        "steps=2": "failure",
    }
    error = broken["steps=2"]["error"]
    assert "RuntimeError: b: planned failure at step 2" in error and "line " in error
    assert doc["stages"]["broken"]["status"] == "failure" and doc["status"] == "failure"
    # reported once, after its retry (which continued from the checkpoint of step 1)
    reported = [r.getMessage() for r in caplog.records if "broken/steps=2 failed" in r.getMessage()]
    assert len(reported) == 1 and "planned failure at step 2" in reported[0]
    assert [line for line in runs if line.startswith("b ")] == ["b 1", "b 1"]


GRID = """\
work: !XCrash
  value: !g [1.0, 2.0]
  steps: 2
  noisy: true
"""


def metrics(doc: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """(stage, variant name) -> what a run measured for it."""
    return {
        (stage, v["name"]): (v["status"], v["step"], v["last_metric"], v["best_metric"])
        for stage, entry in doc["stages"].items()
        for v in entry["variants"].values()
    }


def layout(folder: Path) -> set[str]:
    """The files of an output folder that both executors write (logs and Ray's own aside)."""
    out = set()
    for path in folder.rglob("*"):
        # a checkpoint folder is named after its step and a hash of what it holds
        rel = re.sub(r"(step-\d+)-[0-9a-f]+", r"\1", path.relative_to(folder).as_posix())
        if path.is_file() and not rel.startswith(".tune") and "events.out" not in rel:
            if not rel.endswith((".log", ".lock")) and "/logs/" not in rel:
                out.add(rel)
    return out


def test_local_and_ray_executors_give_the_same_metrics_and_layout(tmp_path: Path) -> None:
    docs = {}
    for executor in ("local", "ray"):
        folder = tmp_path / executor
        folder.mkdir()
        config = write_config(folder, GRID, top=f"seed: 7\nexecutor: {executor}\n")
        run(config)  # the config names the executor
        docs[executor] = progress(folder)
        assert len(docs[executor]["stages"]["work"]["variants"]) == 2
    # the metrics hold numbers drawn from torch's generator, seeded from each variant's
    # identity: equal metrics mean equal seeds and equal steps
    assert metrics(docs["local"]) == metrics(docs["ray"])
    assert all(v[0] == "success" for v in metrics(docs["local"]).values())
    local_files = layout(tmp_path / "local" / "out" / "output__exp")
    assert local_files == layout(tmp_path / "ray" / "out" / "output__exp")
    assert {f for f in local_files if f.endswith("/trial.json")}  # checkpoints committed
