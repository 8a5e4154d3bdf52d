"""Speed of experiments (issue: Experiments).

1. Eight variants of a small trainer, five ``run()`` steps each, as one
   flambe experiment stage on Ray Tune (``executor: ray``), beside the same
   work on bare Ray Tune (a Tuner over an equivalent class Trainable that
   checkpoints after every step), in the same Ray session. Target: at most
   1.05x (best of three rounds; the median ratio is printed too). The same
   stage on the local executor is printed beside them. Both sides start a
   fresh Ray worker process per trial, which is most of the time; what a
   flambe trial does beyond the bare one is building the stage from its
   config and saving the whole stage after every step (state, config,
   source, requirements, the step's record), plus its TensorBoard
   hyper-parameters once: about 50 ms for the first step of a fresh process
   and 7 ms for each later one on 2 cores, against 1-5 ms bare.
2. A three-stage pipeline without search (data, model, trainer) run by
   the experiment engine, beside the same components run by hand in this
   process. Target: at most 0.5 s more (it never starts Ray).
3. The per-step overhead of running a variant (metric, checkpoint of a
   small model, trial.json), in ms.

Run: ``python bench/bench_experiment.py`` (or ``bash scripts/bench experiment``).
"""

from __future__ import annotations

import logging
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import median_time, report  # noqa: E402

# the components' module: their tags are !_experiment_components.Name
NS = "_experiment_components"
LRS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2]


def experiment_text(save_path: str, name: str, body: str, executor: str = "auto") -> str:
    return (
        f"!Experiment\nname: {name}\nsave_path: {save_path}\nseed: 0\nexecutor: {executor}\n"
        f"pipeline:\n{body}"
    )


def run_experiment(text: str) -> float:
    from flambe.compile import yaml

    start = time.perf_counter()
    yaml.load(text)().run(force=True)
    return time.perf_counter() - start


def bare_tune(storage: str) -> float:
    from _experiment_components import BareTrainable
    from ray import tune

    start = time.perf_counter()
    tuner = tune.Tuner(
        tune.with_resources(BareTrainable, {"cpu": 1}),
        param_space={"lr": tune.grid_search(LRS)},
        tune_config=tune.TuneConfig(metric="score", mode="max"),
        run_config=tune.RunConfig(
            name="bare",
            storage_path=storage,
            verbose=0,
            checkpoint_config=tune.CheckpointConfig(num_to_keep=1, checkpoint_frequency=1),
        ),
    )
    grid = tuner.fit()
    assert not grid.errors
    return time.perf_counter() - start


def bench_search(folder: str) -> None:
    import _experiment_components  # noqa: F401  (registers the tags)
    import ray

    from flambe.experiment.tune_runner import start_ray

    start_ray(num_cpus=2)  # one Ray session for both sides
    assert ray.is_initialized()
    body = (
        f"  train: !{NS}.BenchTrainer\n    model: !{NS}.BenchModel {{}}\n"
        f"    data: !{NS}.BenchData {{}}\n    lr: !g {LRS}\n    steps: 5\n"
    )
    flambe_times, bare_times, local_times = [], [], []
    for i in range(3):  # alternate, so both see the same load
        bare_times.append(bare_tune(os.path.join(folder, f"bare{i}")))
        flambe_times.append(run_experiment(experiment_text(folder, f"search{i}", body, "ray")))
        local_times.append(run_experiment(experiment_text(folder, f"local{i}", body, "local")))
    ray.shutdown()
    value, baseline = min(flambe_times), min(bare_times)
    report(
        "8 variants x 5 steps on Ray Tune",
        value,
        baseline,
        "target <= 1.05x",
        baseline_name="bare Tune",
    )
    median = statistics.median(flambe_times) / statistics.median(bare_times)
    print(
        f"  ratio {value / baseline:.2f}x (best of {len(bare_times)}), {median:.2f}x (median)",
        flush=True,
    )
    report(
        "8 variants x 5 steps, executor local",
        min(local_times),
        baseline,
        "the local pool, no Ray trial per variant",
        baseline_name="bare Tune",
    )


def by_hand() -> None:
    from _experiment_components import BenchData, BenchModel, BenchTrainer

    data = BenchData()
    model = BenchModel()
    trainer = BenchTrainer(model, data, lr=0.01, steps=5, inner=20)
    for component in (data, model):
        component.run()
        component.metric()
    while trainer.run():
        trainer.metric()
    trainer.metric()


def bench_pipeline(folder: str) -> None:
    import _experiment_components  # noqa: F401

    body = (
        f"  data: !{NS}.BenchData {{}}\n  model: !{NS}.BenchModel {{}}\n"
        f"  train: !{NS}.BenchTrainer\n    model: !@ model\n    data: !@ data\n"
        "    lr: 0.01\n    steps: 5\n    inner: 20\n"
    )
    text = experiment_text(folder, "pipeline", body)
    engine = median_time(lambda: run_experiment(text), repeat=5)
    hand = median_time(by_hand, repeat=5)
    assert "ray" not in sys.modules or not __import__("ray").is_initialized()
    report(
        "3-stage pipeline, no search",
        engine,
        hand,
        "target <= hand + 0.5 s",
        baseline_name="by hand",
    )
    print(f"  overhead {engine - hand:.3f}s", flush=True)


def bench_step(folder: str) -> None:
    import _experiment_components  # noqa: F401

    from flambe.compile import yaml
    from flambe.experiment.trial import TrialPlan, TrialRunner

    steps = 50
    config = (
        f"!{NS}.BenchTrainer\nmodel: !{NS}.BenchModel {{}}\ndata: !{NS}.BenchData {{}}\n"
        f"lr: 0.01\nsteps: {steps * 10}\n"
    )
    plan = TrialPlan(
        stage="train",
        variant={"id": "x", "name": "default", "params": {}},
        configs={"train": config},
        checkpoints={},
        variant_dir=os.path.join(folder, "step"),
    )
    runner = TrialRunner(plan, resume=False)
    runner.run_step()  # warm up
    start = time.perf_counter()
    for _ in range(steps):
        runner.run_step()
    wrapped = (time.perf_counter() - start) / steps
    trainer = yaml.load(config)()
    trainer.run()
    start = time.perf_counter()
    for _ in range(steps):
        trainer.run()
        trainer.metric()
    bare = (time.perf_counter() - start) / steps
    report(
        "one step through the trial wrapper",
        wrapped * 1000,
        bare * 1000,
        "per-step overhead, report + checkpoint",
        unit="ms",
        baseline_name="run()+metric()",
    )
    print(f"  overhead {(wrapped - bare) * 1000:.2f}ms per step", flush=True)


def main() -> None:
    logging.getLogger("flambe").setLevel(logging.WARNING)
    folder = tempfile.mkdtemp(prefix="bench-exp-")
    try:
        bench_step(folder)
        bench_pipeline(folder)
        if "--no-ray" not in sys.argv:
            bench_search(folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
