"""Experiments run in this process: pipelines, outputs, events, reduce, failures, resume, checks.

Single-variant stages run in-process (an experiment without search never
starts Ray); ``debug`` runs every variant in-process, which is how the
multi-variant behaviours are tested here without Ray.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import torch

import flambe
from flambe.compile import yaml
from flambe.errors import ConfigError, ExperimentFailed, FlambeError, LinkError, UnpreparedLinkError
from flambe.experiment.engine import Engine
from tests.core.exp_helpers import (  # noqa: F401  (recorder is a fixture)
    Recorder,
    lines,
    load,
    progress,
    recorder,
    run,
    statuses,
    write_config,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
PDB_STOPS: list[int] = []


@pytest.fixture(autouse=True)
def no_terminal_debugger(monkeypatch: Any) -> None:
    """debug runs stop in pdb before each run(); a debugger needs a terminal, so record instead."""
    import flambe.experiment.trial as trial

    PDB_STOPS.clear()
    monkeypatch.setattr(trial.pdb, "set_trace", lambda *a, **k: PDB_STOPS.append(1))


CHAIN = """\
data: !XDataset {{}}
model: !XModel
  width: 3
train: !XTrainer
  model: !@ model
  dataset: !@ data
  lr: 0.5
  steps: 3
ev: !XEvaluator
  model: !@ train.model
  out: {out}
"""


# -- a pipeline without search ---------------------------------------------------------------------


def test_pipeline_runs_in_process_with_outputs_events_and_progress(
    tmp_path: Path, recorder: Recorder
) -> None:
    ev_out = tmp_path / "ev.txt"
    config = write_config(tmp_path, CHAIN.format(out=ev_out), top="seed: 1\n")
    run(config)
    root = tmp_path / "out" / "output__exp"
    # E19: one run() per step, a checkpoint after each, overwritten
    train = root / "train" / "default"
    trial = json.loads((train / "trial.json").read_text())
    assert trial["step"] == 3 and trial["done"] is True
    assert trial["last_metric"] == pytest.approx(0.5 * 3 * 3)
    assert json.loads((train / "variant.json").read_text())["name"] == "default"
    trained = flambe.load(str(train / "checkpoint"))
    assert trained.done_steps == 3
    # E18: the evaluator saw the trained weights, not fresh ones
    model = flambe.load(str(root / "model" / "default" / "checkpoint"))
    assert torch.allclose(trained.model.linear.weight, model.linear.weight + 1.5)
    width, value = lines(ev_out)[0].split()
    assert int(width) == 3
    assert float(value) == pytest.approx(float(trained.model.linear.weight.sum()), abs=1e-4)
    # every stage loadable from its folder
    for stage in ("data", "model", "train", "ev"):
        assert flambe.load(str(root / stage / "default" / "checkpoint")) is not None
    # events, in the documented order
    names = recorder.names()
    assert names[0] == "experiment_started" and names[-1] == "experiment_finished"
    stage_events = [
        (n, e.get("stage")) for n, e in recorder.events if n in ("stage_started", "stage_finished")
    ]
    assert stage_events == [
        (n, s)
        for s in ("data", "model", "train", "ev")
        for n in ("stage_started", "stage_finished")
    ]
    start = [
        i
        for i, (n, e) in enumerate(recorder.events)
        if n == "stage_started" and e["stage"] == "train"
    ][0]
    between = names[start + 1 : names.index("stage_finished", start)]
    assert between == ["trial_result", "checkpoint_written"] * 3
    assert [
        e["result"]["step"]
        for n, e in recorder.events[start:]
        if n == "trial_result" and e["stage"] == "train"
    ] == [1, 2, 3]
    assert recorder.events[-1][1]["status"] == "success"
    # progress.json
    doc = progress(tmp_path)
    assert doc["status"] == "success" and doc["finished"] is not None
    assert {s: i["status"] for s, i in doc["stages"].items()} == dict.fromkeys(
        ("data", "model", "train", "ev"), "success"
    )
    assert set(doc["stages"]["ev"]["depends_on"]) == {"data", "model", "train"}
    entry = next(iter(doc["stages"]["train"]["variants"].values()))
    assert entry["step"] == 3 and entry["best_metric"] == pytest.approx(4.5)
    assert entry["checkpoint"] == str(train / "checkpoint")


def test_experiment_yaml_reloads_to_the_same_experiment(tmp_path: Path) -> None:
    # E5
    config = write_config(
        tmp_path,
        "t: !XCounter\n  steps: !s [1, 5, 2]\n  value: !g [1, 2]\n",
        top="seed: 4\nreduce: {t: 1}\n",
    )
    run(config, debug=True)
    dumped = (tmp_path / "out" / "output__exp" / "experiment.yaml").read_text()
    again = yaml.load(dumped)()
    assert again.name == "exp" and again.seed == 4 and again.reduce == {"t": 1}
    assert again.save_path == str(tmp_path / "out")
    steps = again.pipeline["t"]["steps"]
    assert type(steps).__name__ == "GridSearchOptions" and len(steps) == 2  # the values drawn
    assert yaml.dump(again.pipeline) == yaml.dump(load(tmp_path / "exp.yaml").pipeline).replace(
        "!s [1, 5, 2]", f"!g [{', '.join(map(str, steps))}]"
    )


def test_an_experiment_without_search_never_imports_ray(tmp_path: Path) -> None:
    config = write_config(tmp_path, CHAIN.format(out=tmp_path / "ev.txt"))
    script = textwrap.dedent(f"""
        import sys
        import tests.core.experiment_components
        from flambe.compile import yaml
        exp = yaml.load(open({str(config)!r}).read(), file={str(config)!r})()
        exp.run()
        print("RAY" if "ray" in sys.modules else "NO-RAY")
    """)
    proc = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "NO-RAY"


def test_default_save_path_and_output_root(tmp_path: Path, monkeypatch: Any) -> None:
    # E5
    monkeypatch.chdir(tmp_path)
    exp = yaml.load("!Experiment\nname: a_b-c1\npipeline:\n  d: !XDataset {}\n")()
    assert exp.output_path == str(tmp_path / "flambe-output" / "output__a_b-c1")
    exp.run()
    assert (tmp_path / "flambe-output" / "output__a_b-c1" / "d" / "default" / "checkpoint").is_dir()


# -- debug: every variant in this process, pdb before each run() -----------------------------------


def test_debug_stops_in_pdb_before_each_run(tmp_path: Path) -> None:
    # E27 adapted: pdb.set_trace is recorded (see no_terminal_debugger)
    stops = PDB_STOPS
    log = tmp_path / "runs.txt"
    config = write_config(
        tmp_path,
        f"t: !XCounter\n  steps: 2\n  value: !g [1, 2, 3]\n  log: {log}\n",
        top="debug: true\n",
    )
    run(config)
    assert len(lines(log)) == 6 and len(stops) == 6
    if "ray" in sys.modules:
        import ray

        assert not ray.is_initialized()
    # and --debug on a config without debug: true
    stops.clear()
    config = write_config(tmp_path, f"t: !XCounter\n  steps: 1\n  log: {log}\n", name="other")
    run(config, debug=True)
    assert stops == [1]


# -- reduce, metric direction ----------------------------------------------------------------------

REDUCE = """\
model: !XModel
  width: !g [1, 2, 3]
train: !XTrainer
  model: !@ model
  lr: !g [0.1, -0.2]
  steps: 2
  lower_is_better: {lib}
ev: !XEvaluator
  model: !@ train.model
  out: {out}
"""


@pytest.mark.parametrize("lower_is_better", [False, True])
def test_reduce_keeps_the_best_by_the_metric_direction(
    tmp_path: Path, recorder: Recorder, lower_is_better: bool
) -> None:
    # E15/E16 and §10 item 2: with lower-is-better, the best are the smallest metrics
    out = tmp_path / "ev.txt"
    config = write_config(
        tmp_path,
        REDUCE.format(lib=str(lower_is_better).lower(), out=out),
        top="reduce: {train: 2}\n",
    )
    run(config, debug=True)
    doc = progress(tmp_path)
    train = doc["stages"]["train"]["variants"].values()
    metrics = {v["name"]: v["best_metric"] for v in train}
    assert len(metrics) == 6
    ordered = sorted(metrics, key=metrics.get, reverse=not lower_is_better)
    best = set(ordered[:2])
    assert {v["name"] for v in train if v["status"] == "success"} == best
    assert {v["name"] for v in train if v["status"] == "reduced"} == set(ordered[2:])
    # only the kept variants' downstream trials exist and ran
    ev_names = set(statuses(doc, "ev"))
    assert ev_names == best
    assert len(lines(out)) == 2
    assert sorted(os.listdir(tmp_path / "out" / "output__exp" / "ev")) == sorted(best)
    expected_widths = sorted(int(n.split(",")[0].split("=")[1]) for n in best)
    assert sorted(int(line.split()[0]) for line in lines(out)) == expected_widths
    # the downstream stage was offered exactly the kept variants
    ev_started = [e for n, e in recorder.events if n == "stage_started" and e["stage"] == "ev"][0]
    assert {v["name"] for v in ev_started["variants"]} == best


def test_metric_mode_attribute_and_missing_metrics(tmp_path: Path) -> None:
    # metric_mode "min" is honoured; variants without a metric rank last; reduce 0 keeps all
    config = write_config(
        tmp_path,
        """\
        t: !XCounter
          value: !g [3, 1, 2]
          mode: min
          constant: true
        n: !XCounter
          value: !g [5, 6]
          no_metric: !g [false, true]
          constant: true
        z: !XCounter
          value: !g [1, 2]
        """,
        top="reduce: {t: 1, n: 1, z: 0}\n",
    )
    run(config, debug=True)
    doc = progress(tmp_path)
    assert statuses(doc, "t") == {"value=3": "reduced", "value=1": "success", "value=2": "reduced"}
    n = statuses(doc, "n")
    assert [k for k, v in n.items() if v == "success"] == ["value=6,no_metric=False"]
    assert n["value=5,no_metric=False"] == "reduced"
    metrics = {v["name"]: v["best_metric"] for v in doc["stages"]["n"]["variants"].values()}
    assert metrics["value=6,no_metric=True"] is None  # E20: no metric, not 0
    assert set(statuses(doc, "z").values()) == {"success"}


def test_reduce_larger_than_the_variants_warns_and_keeps_all(tmp_path: Path, caplog: Any) -> None:
    config = write_config(
        tmp_path, "t: !XCounter\n  value: !g [1, 2]\n  steps: 1\n", top="reduce: {t: 5}\n"
    )
    with caplog.at_level(logging.WARNING, logger="flambe"):
        run(config, debug=True)
    assert set(statuses(progress(tmp_path), "t").values()) == {"success"}
    assert any(
        "reduce" in r.getMessage() and "keeping all" in r.getMessage() for r in caplog.records
    )


# -- inheritance with checkpoints (E13b, §10 item 19) -------------------------------------------


def test_each_downstream_variant_gets_its_own_upstream_variant(tmp_path: Path) -> None:
    log = tmp_path / "seen.txt"
    config = write_config(
        tmp_path,
        f"""\
        m: !XPair
          a: !g [!XSource {{value: 2}}, !XSource {{value: 3}}, !XSource {{value: !g [-5, 6]}}]
        up: !XSource
          value: !@ m.a.value
        t: !XReader
          got: !@ up
          items: [!@ m.a.value, {{k: !@ up.seen}}]
          log: {log}
        """,
    )
    run(config, debug=True)
    seen = sorted(lines(log))
    # the value each trial saw through both paths agrees, and every upstream variant is used
    expected = sorted(
        f"{{'source': {v}, 'seen': {v}}} | [{v}, {{'k': {v}}}]" for v in (2, 3, -5, 6)
    )
    assert seen == expected
    doc = progress(tmp_path)
    assert len(statuses(doc, "t")) == 4 and set(statuses(doc, "t").values()) == {"success"}


# -- failures --------------------------------------------------------------------------------------


def test_a_failing_trial_stops_the_experiment_with_its_traceback(
    tmp_path: Path, caplog: Any, recorder: Recorder
) -> None:
    # E23: later stages never start, progress marks the stage failed and later ones pending
    log = tmp_path / "runs.txt"
    config = write_config(
        tmp_path,
        f"""\
        t: !XCounter
          value: !g [1, 2]
          fail_at: 2
          steps: 3
          log: {log}
        after: !XCounter
          upstream: !@ t
          log: {log}
        """,
        top="stop_on_failure: true\n",
    )
    with caplog.at_level(logging.ERROR, logger="flambe"), pytest.raises(ExperimentFailed) as info:
        run(config, debug=True)
    assert "'t'" in str(info.value)
    doc = progress(tmp_path)
    assert doc["stages"]["t"]["status"] == "failure"
    assert doc["stages"]["after"]["status"] == "pending"
    assert doc["status"] == "failure" and doc["finished"] is not None
    errors = [v["error"] for v in doc["stages"]["t"]["variants"].values() if v["error"]]
    assert errors and "Traceback" in errors[0] and "planned failure at step 2" in errors[0]
    assert any("planned failure" in r.getMessage() for r in caplog.records)
    assert not any(line.startswith("c ") and "after" in line for line in lines(log))
    assert recorder.events[-1] == ("experiment_finished", {"status": "failure"})


def test_without_stop_on_failure_the_others_continue(tmp_path: Path) -> None:
    # E17/E24: failed variants never feed later stages; the run still ends with an error
    log = tmp_path / "runs.txt"
    config = write_config(
        tmp_path,
        f"""\
        t: !XCounter
          label: t
          value: !g [1, 2, 3]
          fail_at: !g [0, 2]
          steps: 2
          constant: true
        after: !XReader
          got: !@ t.value
          log: {log}
        """,
        top="stop_on_failure: false\n",
    )
    with pytest.raises(ExperimentFailed):
        run(config, debug=True)
    doc = progress(tmp_path)
    t = statuses(doc, "t")
    assert sorted(t.values()) == ["failure"] * 3 + ["success"] * 3
    assert doc["stages"]["after"]["status"] == "success"
    assert sorted(lines(log)) == ["1 | None", "2 | None", "3 | None"]
    assert len(statuses(doc, "after")) == 3
    assert doc["status"] == "failure"


# -- the output folder: continue, refuse, force, resume --------------------------------------------

PIPE3 = """\
model: !XCounter
  label: model
  value: !g [1, 2]
  steps: 1
  log: {log}
trainer: !XCounter
  label: trainer
  upstream: !@ model
  steps: 2
  value: {tv}
  log: {log}
other: !XCounter
  label: other
  upstream: !@ trainer
  steps: 1
  log: {log}
"""


def _labels(log: Path) -> list[str]:
    return [line.split()[0] for line in lines(log)]


def test_rerunning_the_same_config_continues_and_recomputes_nothing(tmp_path: Path) -> None:
    log = tmp_path / "runs.txt"
    config = write_config(tmp_path, PIPE3.format(log=log, tv=1))
    run(config, debug=True)
    first = _labels(log)
    assert first.count("model") == 2 and first.count("trainer") == 4 and first.count("other") == 2
    run(config, debug=True)
    assert _labels(log) == first  # nothing ran again
    doc = progress(tmp_path)
    assert set(statuses(doc, "trainer").values()) == {"reused"}
    assert doc["status"] == "success"


def test_another_config_in_the_same_folder_is_refused_and_deletes_nothing(tmp_path: Path) -> None:
    # E4
    log = tmp_path / "runs.txt"
    run(write_config(tmp_path, PIPE3.format(log=log, tv=1)), debug=True)
    root = tmp_path / "out" / "output__exp"
    before = sorted(str(p) for p in root.rglob("*"))
    changed = write_config(tmp_path, PIPE3.format(log=log, tv=5))
    with pytest.raises(ConfigError) as info:
        run(changed, debug=True)
    assert "--force" in (info.value.hint or "")
    assert sorted(str(p) for p in root.rglob("*")) == before


def test_force_replaces_only_this_experiments_folder(tmp_path: Path) -> None:
    log = tmp_path / "runs.txt"
    run(write_config(tmp_path, PIPE3.format(log=log, tv=1)), debug=True)
    keep = tmp_path / "out" / "mine.txt"
    keep.write_text("x")
    sibling = tmp_path / "out" / "output__exp2"
    sibling.mkdir()
    marker = tmp_path / "out" / "output__exp" / "model" / "stale.txt"
    marker.write_text("stale")
    log.unlink()
    run(write_config(tmp_path, PIPE3.format(log=log, tv=5)), force=True, debug=True)
    assert keep.exists() and sibling.exists() and not marker.exists()
    assert _labels(log).count("trainer") == 4  # everything ran again


def test_resume_a_stage_reuses_it_and_those_before_and_reruns_the_rest(tmp_path: Path) -> None:
    # E25: resume: trainer with [model, trainer, other]
    log = tmp_path / "runs.txt"
    run(write_config(tmp_path, PIPE3.format(log=log, tv=1)), debug=True)
    log.unlink()
    # a changed config is accepted with resume; the resumed stages are kept as they are
    config = write_config(
        tmp_path,
        PIPE3.format(log=log, tv=1).replace("label: other", "label: other\n  value: 7"),
        top="resume: trainer\n",
    )
    run(config, debug=True)
    assert _labels(log) == ["other", "other"]
    doc = progress(tmp_path)
    assert set(statuses(doc, "model").values()) == {"reused"}
    assert set(statuses(doc, "trainer").values()) == {"reused"}
    assert set(statuses(doc, "other").values()) == {"success"}


def test_resume_a_list_reuses_only_those_stages(tmp_path: Path) -> None:
    log = tmp_path / "runs.txt"
    run(write_config(tmp_path, PIPE3.format(log=log, tv=1)), debug=True)
    log.unlink()
    config = write_config(tmp_path, PIPE3.format(log=log, tv=1), top="resume: [model, other]\n")
    run(config, debug=True)
    assert sorted(set(_labels(log))) == ["trainer"]
    doc = progress(tmp_path)
    assert set(statuses(doc, "other").values()) == {"reused"}


def test_a_failed_variant_continues_from_its_last_checkpoint(tmp_path: Path) -> None:
    log = tmp_path / "runs.txt"
    marker = tmp_path / "failed-once"
    config = write_config(
        tmp_path, f"t: !XCounter\n  steps: 4\n  fail_at: 3\n  fail_once: {marker}\n  log: {log}\n"
    )
    with pytest.raises(ExperimentFailed):
        run(config)
    assert lines(log) == ["c 1", "c 2"] and marker.exists()
    run(config)  # the same config: steps 1-2 are not run again
    assert lines(log) == ["c 1", "c 2", "c 3", "c 4"]
    trial = json.loads(
        (tmp_path / "out" / "output__exp" / "t" / "default" / "trial.json").read_text()
    )
    assert trial["step"] == 4 and trial["done"]


def test_a_changed_stage_is_recomputed_under_resume(tmp_path: Path) -> None:
    log = tmp_path / "runs.txt"
    config = write_config(tmp_path, f"t: !XCounter\n  steps: 2\n  log: {log}\n")
    run(config)
    config = write_config(tmp_path, f"t: !XCounter\n  steps: 3\n  log: {log}\n", top="resume: t\n")
    run(config)
    assert lines(log) == ["c 1", "c 2", "c 1", "c 2", "c 3"]


# -- checks before any trial -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "some-invalid-name-!@#", "/some/invalid/name"])
def test_invalid_names_are_refused(name: str) -> None:
    # E1
    with pytest.raises(ConfigError):
        yaml.load(f"!Experiment\nname: {json.dumps(name)}\npipeline:\n  d: !XDataset {{}}\n")()


def test_a_pipeline_must_be_a_mapping() -> None:
    with pytest.raises(ConfigError):
        yaml.load("!Experiment\nname: x\npipeline: [!XDataset {}]\n")()


@pytest.mark.parametrize("key", ["reduce", "search", "schedulers", "num_samples"])
def test_keys_that_are_not_stages_are_config_errors(key: str) -> None:
    # E3, §10 item 14: a FlambeError, not a KeyError
    value = "2" if key in ("reduce", "num_samples") else "!ray.ASHAScheduler {}"
    text = f"!Experiment\nname: x\n{key}: {{nope: {value}}}\npipeline:\n  d: !XDataset {{}}\n"
    with pytest.raises(FlambeError) as info:
        yaml.load(text, file="k.yaml")()
    assert not isinstance(info.value, KeyError)
    assert "'nope'" in str(info.value) and "not a stage" in str(info.value)


def test_links_to_later_or_missing_stages_fail_at_load_with_their_place(tmp_path: Path) -> None:
    # E2
    config = write_config(tmp_path, "a: !XSource\n  value: !@ b.value\nb: !XSource {}\n")
    with pytest.raises(UnpreparedLinkError) as info:
        load(config)
    assert info.value.location.file == str(config) and info.value.location.line == 6
    config = write_config(tmp_path, "a: !XSource {}\nb: !XSource\n  value: !@ nowhere.x\n")
    with pytest.raises(LinkError) as missing:
        load(config)
    assert missing.value.location.line == 7
    # links to earlier stages, the same stage and resources pass
    data = tmp_path / "d.csv"
    data.write_text("x\n")
    ok = write_config(
        tmp_path,
        "a: !XSource {value: !@ data}\nb: !XReader\n  got: !@ a.value\n  items: !@ b[got]\n",
        top=f"resources: {{data: {data}}}\n",
    )
    load(ok)


def test_too_many_variants_is_an_error_before_any_trial(tmp_path: Path) -> None:
    log = tmp_path / "runs.txt"
    config = write_config(
        tmp_path, f"t: !XCounter\n  value: !g [1, 2, 3, 4]\n  log: {log}\n", top="max_variants: 3\n"
    )
    with pytest.raises(ConfigError) as info:
        run(config, debug=True)
    assert "4 variants" in str(info.value) and "max_variants" in str(info.value)
    assert lines(log) == []
    ok = write_config(
        tmp_path,
        f"t: !XCounter\n  value: !g [1, 2, 3, 4]\n  log: {log}\n  steps: 1\n",
        top="max_variants: 4\n",
        name="ok",
    )
    run(ok, debug=True)
    assert len(lines(log)) == 4


def test_a_stage_left_without_variants_is_an_error(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        """\
        t: !XCounter
          value: !g [1, 2]
          fail_at: 1
        after: !XReader
          got: !@ t
        """,
        top="stop_on_failure: false\n",
    )
    with pytest.raises(FlambeError) as info:
        run(config, debug=True)
    assert "after" in str(info.value)
    doc = progress(tmp_path)
    assert doc["status"] == "failure" and doc["stages"]["after"]["status"] != "success"


# -- resources -------------------------------------------------------------------------------------


def test_resources_are_linked_as_absolute_paths(tmp_path: Path, monkeypatch: Any) -> None:
    # E29
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.csv").write_text("a,b\n")
    log = tmp_path / "seen.txt"
    monkeypatch.chdir(tmp_path)
    config = write_config(
        tmp_path,
        f"r: !XReader\n  got: !@ train\n  items: !@ extra\n  log: {log}\n",
        top="resources:\n  local:\n    train: data/train.csv\n    extra: data\n",
    )
    run(config)
    got, items = lines(log)[0].split(" | ")
    assert eval(got) == str(tmp_path / "data" / "train.csv")
    assert eval(items) == str(tmp_path / "data")


def test_a_missing_resource_fails_before_any_stage(tmp_path: Path) -> None:
    log = tmp_path / "runs.txt"
    config = write_config(
        tmp_path,
        f"r: !XCounter\n  label: !@ train\n  log: {log}\n",
        top=f"resources: {{train: {tmp_path / 'nope.csv'}}}\n",
    )
    with pytest.raises(ConfigError) as info:
        run(config)
    assert "nope.csv" in str(info.value) and lines(log) == []


def test_cluster_only_resources_are_refused_locally(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        "r: !XReader\n  got: !@ emb\n",
        top="resources:\n  remote:\n    emb: /file/in/instance\n",
    )
    with pytest.raises(ConfigError) as info:
        run(config)
    assert "cluster" in str(info.value)


# -- devices ---------------------------------------------------------------------------------------


def test_default_devices_are_one_cpu_plus_a_gpu_when_there_is_one(tmp_path: Path) -> None:
    # E26 adapted
    exp = load(write_config(tmp_path, "d: !XDataset {}\n"))
    expected = {"cpu": 1, **({"gpu": 1} if torch.cuda.is_available() else {})}
    assert Engine(exp)._devices() == expected
    exp = load(write_config(tmp_path, "d: !XDataset {}\n", top="devices: {cpu: 0.5}\n"))
    assert Engine(exp)._devices() == {"cpu": 0.5}


# -- the command line ------------------------------------------------------------------------------

EXT = "xq_exp_ext"


def flambe_cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """``python -m flambe.cli ARGS`` with an extension module re-exporting the test components."""
    folder = cwd / "pythonpath" / EXT
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "__init__.py").write_text("from tests.core.experiment_components import *  # noqa\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(cwd / "pythonpath"), str(REPO_ROOT)]
        + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    return subprocess.run(
        [sys.executable, "-m", "flambe.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_flambe_run_and_validate_an_experiment(tmp_path: Path) -> None:
    log = tmp_path / "runs.txt"
    good = tmp_path / "good.yaml"
    good.write_text(
        f"{EXT}: {EXT}\n---\n!Experiment\nname: cli\nsave_path: {tmp_path / 'out'}\n"
        "pipeline:\n"
        f"  a: !{EXT}.XCounter {{steps: 2, log: {log}}}\n"
        f"  b: !{EXT}.XCounter {{upstream: !@ a, label: b, steps: 1, log: {log}}}\n"
    )
    proc = flambe_cli(["validate", str(good)], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = flambe_cli(["run", str(good)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert lines(log) == ["c 1", "c 2", "b 1"]
    assert "output__cli" in proc.stderr  # the console says where the outputs are
    doc = json.loads((tmp_path / "out" / "output__cli" / "progress.json").read_text())
    assert doc["status"] == "success"
    # a second run of another config in the same folder is refused, -f replaces it
    good.write_text(good.read_text().replace("steps: 2", "steps: 3"))
    proc = flambe_cli(["run", str(good)], tmp_path)
    assert proc.returncode != 0 and "--force" in proc.stderr
    assert lines(log) == ["c 1", "c 2", "b 1"]
    proc = flambe_cli(["run", "-f", str(good)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert lines(log)[3:] == ["c 1", "c 2", "c 3", "b 1"]
    # --debug with --cluster is refused before anything runs
    proc = flambe_cli(
        ["run", "--debug", "--cluster", str(tmp_path / "c.yaml"), str(good)], tmp_path
    )
    assert proc.returncode != 0 and "--debug" in proc.stderr and "--cluster" in proc.stderr


def test_flambe_validate_reports_bad_experiment_keys_with_their_place(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        f"{EXT}: {EXT}\n---\n"
        "!Experiment\n"  # line 3
        "name: bad\n"
        "reduce: {nope: 2}\n"  # line 5
        "search: {b: !ray.BasicVariantGenerator {}, x: 1}\n"
        "pipeline:\n"
        f"  a: !{EXT}.XSource\n"
        "    value: !@ b.value\n"  # line 9: later stage
        f"  b: !{EXT}.XSource\n"
        "    value: !@ missing.x\n"
    )  # line 11: missing
    proc = flambe_cli(["validate", str(bad)], tmp_path)
    assert proc.returncode == 22, proc.stdout + proc.stderr
    text = proc.stdout + proc.stderr
    assert f"{bad}:5:" in text and "reduce names 'nope'" in text
    assert f"{bad}:6:" in text and "search names 'x'" in text
    assert f"{bad}:9:" in text and f"{bad}:11:" in text
