"""Running the variants of a stage as one Ray Tune run.

Each stage with several variants (or a scheduler, or a search algorithm) is
one ``Tuner`` over :class:`FlambeTrainable`, a class trainable that runs a
:class:`~flambe.experiment.trial.TrialRunner`. The variants are a grid over
their ids; a searched stage is a Tune search space. Either way one
:class:`~flambe.experiment.trial.PlanSource`, given with
``tune.with_parameters``, turns a trial's Tune config into its plan. Results
reach the experiment through a Tune callback, in the driver process.
"""

from __future__ import annotations

import importlib
import logging
import os
import re
import shutil
import sys
from collections.abc import Callable, Mapping
from typing import Any

from ray import tune

from flambe.experiment.trial import (
    ListedPlans,
    PlanSource,
    TrialPlan,
    TrialRunner,
    trial_result,
)
from flambe.experiment.trial_sync import TrialSync, pull_lineage

logger = logging.getLogger(__name__)

SCORE = "flambe_score"
_ANSI = re.compile(r"\x1b\[[0-9;]*m")  # Ray colours its tracebacks
METRIC = "flambe_metric"


class FlambeTrainable(tune.Trainable):
    """A Tune trainable running one variant of a stage.

    ``source`` (given through ``tune.with_parameters``) turns the trial's
    Tune config into its plan: see :class:`~flambe.experiment.trial.PlanSource`.
    """

    def setup(
        self,
        config: dict[str, Any],
        source: PlanSource | None = None,
        modules: list[str] | None = None,
        sync: TrialSync | None = None,
    ) -> None:
        """Import the pipeline's modules, then build (or restore) the trial's variant.

        On a host that does not see the experiment's folder (``sync``), the
        variant's folder and its upstream checkpoints are copied here first.
        """
        for module in modules or []:
            importlib.import_module(module)
        assert source is not None, "FlambeTrainable runs with tune.with_parameters(source=...)"
        self.plan = source.trial_plan(config, self.trial_id)
        self.sync = (
            sync if pull_lineage(sync, self.plan.variant_dir, self.plan.checkpoints) else None
        )
        self.runner = TrialRunner(self.plan, resume=True)

    def step(self) -> dict[str, Any]:
        """Run one step of the variant; return its Tune result."""
        runner = self.runner
        if runner.done:  # restored after it had finished
            return self._result(True, runner.last_metric, runner.best_score)
        done, metric, score = runner.run_step()
        if self.sync is not None:  # the step's checkpoint reaches the experiment's host
            self.sync.push(self.plan.variant_dir)
        return self._result(done, metric, score)

    def _result(self, done: bool, metric: float | None, score: float | None) -> dict[str, Any]:
        return trial_result(self.runner, self.plan, done, metric, score)

    def save_checkpoint(self, checkpoint_dir: str) -> dict[str, Any]:
        """Record which step was checkpointed (the component saves itself)."""
        # the component itself is saved in the variant folder after every step;
        # Tune's checkpoint only records which step that was
        return {"step": self.runner.step, "checkpoint": self.plan.checkpoint_dir}

    def load_checkpoint(self, checkpoint: Any) -> None:
        """Do nothing: setup() already continued from the variant's checkpoint."""
        # setup() already continued from the variant folder's checkpoint
        pass


class _Events(tune.Callback):
    """Forwards trial results and errors to the experiment (runs in the driver)."""

    def __init__(
        self, on_result: Callable[[str, dict[str, Any]], None], on_error: Callable[[str, str], None]
    ) -> None:
        self.on_result = on_result
        self.on_error = on_error

    # Tune pickles its run configuration (callbacks included) to be able to
    # restore a run; the handlers live in this process only.
    def __getstate__(self) -> dict[str, Any]:
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.on_result = lambda vid, result: None
        self.on_error = lambda vid, text: None

    def on_trial_result(
        self, iteration: int, trials: list[Any], trial: Any, result: dict[str, Any], **info: Any
    ) -> None:
        self.on_result(result.get("flambe_variant") or trial.config.get("variant"), result)

    def on_trial_error(self, iteration: int, trials: list[Any], trial: Any, **info: Any) -> None:
        text = ""
        path = getattr(trial, "error_file", None)
        if path and os.path.exists(path):
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
        self.on_error(
            trial.config.get("variant") or trial.trial_id,
            _ANSI.sub("", text) or "the trial failed (no traceback found)",
        )


def ray_runtime_env() -> dict[str, Any]:
    """Let Ray workers import what the driver can (same module search path)."""
    paths = [p for p in sys.path if p and os.path.isdir(p)]
    return {"env_vars": {"PYTHONPATH": os.pathsep.join(paths)}}


def start_ray(num_cpus: int | None = None) -> bool:
    """Start a local Ray instance unless one is connected; returns whether it started one."""
    import ray

    # read by Tune in this process, also when Ray was started by someone else: a stage
    # whose component has no metric() reports results without one
    os.environ.setdefault("TUNE_DISABLE_STRICT_METRIC_CHECKING", "1")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    os.environ.setdefault("TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S", "0")
    if ray.is_initialized():
        return False
    from flambe.logging.libraries import adopt_library_loggers, stderr_to_log

    adopt_library_loggers()  # Ray's notices go where flambe's logging sends them (the log file)
    from flambe.experiment import ray_shipping

    staged = None
    if ray_shipping.shipping_enabled():  # a cluster started elsewhere: send it our code
        runtime_env, staged = ray_shipping.shipped_runtime_env()
    else:
        runtime_env = ray_runtime_env()
    try:
        with stderr_to_log("ray.init"):
            ray.init(
                num_cpus=num_cpus,
                include_dashboard=False,
                logging_level=logging.ERROR,
                log_to_driver=False,
                runtime_env=runtime_env,
                configure_logging=False,
            )
    finally:
        if staged is not None:  # uploaded by ray.init
            shutil.rmtree(staged, ignore_errors=True)
    return True


def _fit(
    stage: str,
    trainable: Any,
    param_space: dict[str, Any],
    storage_path: str,
    max_failures: int,
    on_result: Callable[[str, dict[str, Any]], None] | None,
    on_error: Callable[[str, str], None] | None,
    sync: TrialSync | None = None,
    **tune_config: Any,
) -> tuple[Any, dict[str, str]]:
    """One Tune run of a stage; returns its result grid and the error text of each trial."""
    errors: dict[str, str] = {}

    def record_error(key: str, text: str) -> None:
        errors[key] = text
        if on_error is not None:
            on_error(key, text)

    tuner = tune.Tuner(
        trainable,
        param_space=param_space,
        tune_config=tune.TuneConfig(metric=SCORE, mode="max", **tune_config),
        run_config=tune.RunConfig(
            name=stage,
            storage_path=os.path.abspath(storage_path),
            # hosts without the experiment's folder keep Tune's records there over SFTP
            storage_filesystem=sync.tune_filesystem() if sync is not None else None,
            verbose=0,
            failure_config=tune.FailureConfig(max_failures=max_failures),
            checkpoint_config=tune.CheckpointConfig(num_to_keep=1, checkpoint_frequency=1),
            callbacks=[_Events(on_result or (lambda vid, r: None), record_error)],
        ),
    )
    from flambe.logging.libraries import adopt_library_loggers

    # Tune sets Ray's logger up again (its own stderr handler, level ERROR): take it back, for
    # this stage and for what Ray says after it
    adopt_library_loggers()
    try:
        return tuner.fit(), errors
    finally:
        adopt_library_loggers()


def _error_text(result: Any, errors: Mapping[str, str], key: str | None) -> str | None:
    """The traceback of a trial that failed after its retries (``None`` if it succeeded)."""
    if result.error is None:
        return None
    if key is not None and key in errors:
        return errors[key]
    return f"{type(result.error).__name__}: {result.error}"


def run_stage(
    stage: str,
    plans: Mapping[str, TrialPlan],
    storage_path: str,
    resources: Mapping[str, float],
    scheduler: Any = None,
    search_alg: Any = None,
    max_failures: int = 0,
    modules: list[str] | None = None,
    on_result: Callable[[str, dict[str, Any]], None] | None = None,
    on_error: Callable[[str, str], None] | None = None,
) -> dict[str, str | None]:
    """Run the given variants of a stage on Ray Tune.

    Returns
    -------
    dict
        Variant id -> ``None`` when it succeeded, else its error text.

    """
    names = {vid: plan.variant["name"] for vid, plan in plans.items()}
    sync = TrialSync.from_environment(storage_path)
    trainable = tune.with_resources(
        tune.with_parameters(
            FlambeTrainable,
            source=ListedPlans(dict(plans)),
            modules=list(modules or []),
            sync=sync,
        ),
        dict(resources),
    )
    grid, errors = _fit(
        stage,
        trainable,
        {"variant": tune.grid_search(list(plans))},
        storage_path,
        max_failures,
        on_result,
        on_error,
        sync=sync,
        scheduler=scheduler,
        search_alg=search_alg,
        trial_name_creator=lambda t: names[t.config["variant"]],
        trial_dirname_creator=lambda t: names[t.config["variant"]],
    )
    outcome: dict[str, str | None] = {vid: None for vid in plans}
    for result in grid:
        vid = (result.config or {}).get("variant")
        if vid in outcome:
            outcome[vid] = _error_text(result, errors, vid)
    return outcome


def run_search(
    stage: str,
    plan: Any,
    space: dict[str, Any],
    num_samples: int,
    storage_path: str,
    resources: Mapping[str, float],
    search_alg: Any,
    scheduler: Any = None,
    max_failures: int = 0,
    modules: list[str] | None = None,
    on_result: Callable[[str, dict[str, Any]], None] | None = None,
    on_error: Callable[[str, str], None] | None = None,
) -> list[dict[str, Any]]:
    """Run a stage whose values a search algorithm proposes.

    Returns
    -------
    list of dict
        Per trial: ``variant_dir`` (None when it failed before building) and
        ``error`` (None when it succeeded).

    """
    sync = TrialSync.from_environment(storage_path)
    trainable = tune.with_resources(
        tune.with_parameters(FlambeTrainable, source=plan, modules=list(modules or []), sync=sync),
        dict(resources),
    )
    grid, errors = _fit(
        stage,
        trainable,
        space,
        storage_path,
        max_failures,
        on_result,
        on_error,
        sync=sync,
        scheduler=scheduler,
        search_alg=search_alg,
        num_samples=num_samples,
    )
    outcome = []
    for result in grid:
        metrics = result.metrics or {}
        trial_id = metrics.get("trial_id")
        name = metrics.get("flambe_name")
        outcome.append(
            {
                "variant_dir": os.path.join(plan.output, stage, name) if name else None,
                "error": _error_text(result, errors, trial_id),
                "trial_id": trial_id,
            }
        )
    return outcome
