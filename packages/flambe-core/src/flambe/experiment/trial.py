"""Running one variant of a stage: building it, stepping it, checkpointing it.

The same code runs a variant in the experiment's own process (a stage with
one variant and no scheduler) and inside a Ray Tune trial. A variant is
built from its resolved config; the upstream stages it links to are built
from theirs and loaded from the checkpoints of its own lineage, so links
like ``!@ trainer.model`` see trained weights.

Each variant folder holds ``variant.json`` (its identity and parameters),
``checkpoint/`` (a ``flambe.save`` of the stage with ``trial.json``, the
record of its step, committed together after every step: see
:mod:`flambe.experiment.checkpoints`), a copy of that ``trial.json`` for
readers, and the TensorBoard event files of ``flambe.log``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import pdb
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from flambe.experiment.identity import VARIANT_FILE
from flambe.utils.atomic import write_json_atomic, write_text_atomic
from flambe.utils.faults import fault_point

logger = logging.getLogger(__name__)

CHECKPOINT = "checkpoint"
TRIAL_FILE = "trial.json"


@dataclass
class TrialPlan:
    """What one variant needs to run anywhere (picklable, sent to Ray workers).

    Parameters
    ----------
    stage : str
        The stage.
    variant : dict
        The variant's ``to_json()``.
    configs : dict
        Stage -> resolved config text, for the variant's lineage and the
        stage itself, in pipeline order.
    checkpoints : dict
        Upstream stage -> checkpoint folder of the variant of the lineage.
    variant_dir : str
        The variant's folder.
    globals_ : dict
        Values of resources, by name.
    extensions : dict
        The config's extensions (module -> location).
    file : str
        The config file (for error messages).
    debug : bool
        Stop in pdb before each ``run()``.
    verbose : bool
        Show every log record of the trial on the console.
    sources : dict
        Stage -> where its config was written (``file:line:column``), for errors.
    seed : int, optional
        The experiment's seed; each variant seeds Python, NumPy and torch from
        it and its identity, so a rerun of a variant draws the same numbers.

    """

    stage: str
    variant: dict[str, Any]
    configs: dict[str, str]
    checkpoints: dict[str, str]
    variant_dir: str
    globals_: dict[str, Any] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)
    file: str = "<experiment>"
    debug: bool = False
    verbose: bool = False
    sources: dict[str, str] = field(default_factory=dict)
    seed: int | None = None

    @property
    def id(self) -> str:
        """Return the variant's identity."""
        return str(self.variant["id"])

    @property
    def checkpoint_dir(self) -> str:
        """Return the variant's checkpoint folder."""
        return os.path.join(self.variant_dir, CHECKPOINT)


def trial_result(
    runner: TrialRunner, plan: TrialPlan, done: bool, metric: float | None, score: float | None
) -> dict[str, Any]:
    """Return the result of one step, as every executor reports it to the engine.

    Parameters
    ----------
    runner : TrialRunner
        The variant's runner, after the step.
    plan : TrialPlan
        Its plan.
    done : bool
        Whether the variant finished.
    metric, score : float or None
        The step's metric and score (both left out when there is no metric).

    Returns
    -------
    dict
        ``done``, ``flambe_step``, ``checkpoint_path``, ``flambe_variant``,
        ``flambe_name``, ``flambe_params``, the metric's name, direction and
        steps, and ``flambe_metric``/``flambe_score``.

    """
    variant = plan.variant
    result: dict[str, Any] = {
        "done": done,
        "flambe_step": runner.step,
        "checkpoint_path": plan.checkpoint_dir,
        "flambe_variant": variant["id"],
        "flambe_name": variant["name"],
        "flambe_params": variant.get("params", {}),
        "flambe_metric_name": runner.metric_name,
        "flambe_metric_negated": runner.metric_negated,
        "flambe_total_steps": runner.total_steps,
    }
    if metric is not None:
        result["flambe_metric"] = metric
        result["flambe_score"] = score
    return result


class PlanSource(Protocol):
    """Where a trial gets its plan: the one path a variant's values take to the trial.

    A Ray trial receives a source (through ``tune.with_parameters``) and its
    Tune config; the source turns them into the variant's
    :class:`TrialPlan`. For listed variants (:class:`ListedPlans`) the
    config names the variant; for a searched stage
    (:class:`~flambe.experiment.search.SearchPlan`) it holds the values the
    algorithm proposed.
    """

    def trial_plan(self, config: Mapping[str, Any], trial_id: str) -> TrialPlan:
        """Return the plan of the trial given its Tune config and id."""
        ...


@dataclass
class ListedPlans:
    """The plans of a stage's variants listed up front, by variant id.

    Parameters
    ----------
    plans : dict
        Variant id -> its plan.

    """

    plans: dict[str, TrialPlan]

    def trial_plan(self, config: Mapping[str, Any], trial_id: str) -> TrialPlan:
        """Return the plan of the variant the trial's config names (``config["variant"]``)."""
        return self.plans[config["variant"]]


def read_trial(variant_dir: str) -> dict[str, Any] | None:
    """The trial record of a variant folder, if any.

    The record committed with the checkpoint (``checkpoint/trial.json``) is
    the truth; ``trial.json`` beside it is a copy for readers, trusted only
    in folders written before checkpoints were committed that way.
    """
    from flambe.experiment.checkpoints import committed_record, is_versioned

    if is_versioned(variant_dir):
        return committed_record(variant_dir)
    path = os.path.join(variant_dir, TRIAL_FILE)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            found = json.load(handle)
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def metric_direction(obj: Any) -> str:
    """``"max"`` or ``"min"``: which way the component's ``metric()`` improves.

    A component declares it with a ``metric_mode`` attribute; the default is
    ``"max"``. (``Trainer.metric()`` is already oriented so that higher is
    better, whatever its ``lower_is_better``.)
    """
    mode = getattr(obj, "metric_mode", "max")
    if mode not in ("max", "min"):
        raise ValueError(f"{type(obj).__name__}.metric_mode must be 'max' or 'min', not {mode!r}")
    return mode


def score_of(metric: float | None, direction: str) -> float | None:
    """The metric oriented so that higher is better (what reduce and schedulers use)."""
    if metric is None:
        return None
    value = float(metric)
    return -value if direction == "min" else value


def seed_everything(seed: int, variant_id: str) -> int:
    """Seed ``random``, NumPy and torch for one variant; returns the seed used."""
    import random
    import zlib

    import numpy as np

    value = zlib.crc32(f"{seed}:{variant_id}".encode()) & 0x7FFFFFFF
    random.seed(value)
    np.random.seed(value)
    try:
        import torch

        torch.manual_seed(value)
    except ImportError:  # pragma: no cover
        pass
    return value


def build_stage(plan: TrialPlan, live: Mapping[str, Any] | None = None) -> Any:
    """Build the plan's stage, with its upstream stages built and restored first.

    Parameters
    ----------
    plan : TrialPlan
        What to build.
    live : mapping, optional
        Upstream stages already built in this process (used as they are).

    """
    from flambe.compile.extensions import ensure_extensions
    from flambe.compile.registry import get_registry

    if plan.extensions:
        ensure_extensions(plan.extensions, install=False)
        for module in plan.extensions:
            get_registry().add_module_namespace(module)
    live = live or {}
    return _build_scope(plan, live)


def _located(exc: Any, plan: TrialPlan, stage: str) -> Any:
    """Point an error raised while building a stage at the stage in the user's file."""
    where = plan.sources.get(stage)
    exc.message = (
        f"stage '{stage}'" + (f" (written at {where})" if where else "") + f": {exc.message}"
    )
    exc.location = None
    exc.args = (exc._render(),)
    return exc


def _build_scope(plan: TrialPlan, live: Mapping[str, Any]) -> Any:
    from flambe.compile.binding import bind_links
    from flambe.compile.compose import compose_all
    from flambe.compile.serialization import load_state_from_file
    from flambe.compile.yaml import build
    from flambe.errors import FlambeError

    scope: dict[str, Any] = {}
    for stage, text in plan.configs.items():
        if stage in live:
            scope[stage] = live[stage]
        else:
            nodes, name = compose_all(text, f"stage {stage}")
            scope[stage] = build(nodes[0], name, bind=False)
    bind_links(scope, globals_=plan.globals_)
    for stage, value in scope.items():
        if stage in live:
            continue
        if stage == plan.stage and plan.seed is not None:
            # the same numbers whether the upstream stages were live or rebuilt just now
            seed_everything(plan.seed, plan.id)
        try:
            obj = value() if callable(value) and hasattr(value, "component_subclass") else value
        except FlambeError as exc:
            raise _located(exc, plan, stage)  # noqa: B904 - the same error, now located
        scope[stage] = obj
        if stage != plan.stage:
            ckpt = plan.checkpoints.get(stage)
            if ckpt and os.path.isdir(ckpt) and hasattr(obj, "load_state"):
                obj.load_state(load_state_from_file(ckpt))
    return scope[plan.stage]


class TrialRunner:
    """Steps one variant: ``run()``, ``metric()``, checkpoint, repeat.

    Parameters
    ----------
    plan : TrialPlan
        The variant to run.
    live : mapping, optional
        Upstream stages already built in this process.
    resume : bool
        Continue from the variant's last checkpoint when there is one.

    """

    def __init__(
        self, plan: TrialPlan, live: Mapping[str, Any] | None = None, resume: bool = True
    ) -> None:
        self.plan = plan
        os.makedirs(plan.variant_dir, exist_ok=True)
        write_json_atomic(os.path.join(plan.variant_dir, VARIANT_FILE), plan.variant, sync=False)
        if plan.seed is not None:
            seed_everything(plan.seed, plan.id)
        self.component = build_stage(plan, live)
        self.direction = metric_direction(self.component)
        from flambe.experiment.summary import describe_metric

        self.metric_name, self.metric_negated, self.total_steps = describe_metric(self.component)
        self.step = 0
        self.done = False
        self.last_metric: float | None = None
        self.best_score: float | None = None
        self.elapsed = 0.0  # seconds spent in run() and metric(), over every step so far
        self._log_context: Any = None  # the trial's logging, its TensorBoard handler kept
        if resume:
            self._resume()

    def _resume(self) -> None:
        from flambe.compile.serialization import load_state_from_file
        from flambe.experiment.checkpoints import load_rng, prune

        prune(self.plan.variant_dir)  # versions a killed run wrote but never committed
        saved = read_trial(self.plan.variant_dir)
        if not saved or saved.get("id") != self.plan.id or saved.get("step", 0) == 0:
            return
        if os.path.isdir(self.plan.checkpoint_dir):
            self.component.load_state(load_state_from_file(self.plan.checkpoint_dir))
            load_rng(self.plan.checkpoint_dir)
            self.step = int(saved["step"])
            self.last_metric = saved.get("last_metric")
            self.best_score = saved.get("best_score")
            self.elapsed = float(saved.get("elapsed") or 0.0)
            self.done = bool(saved.get("done"))
            logger.info(
                "%s/%s: continuing from step %d",
                self.plan.stage,
                self.plan.variant["name"],
                self.step,
            )

    def _logging(self) -> Any:
        """The trial's logging context, entered around every ``run()``.

        Its TensorBoard handler is kept from step to step (every value is on
        disk after each step), so the variant's hyper-parameters are written
        once per trial; :meth:`close` releases it.
        """
        if self._log_context is None:
            from flambe.logging import TrialLogging

            self._log_context = TrialLogging(
                self.plan.variant_dir,
                verbose=self.plan.verbose,
                console_prefix=f"{self.plan.stage}/{self.plan.variant['name']}",
                hyper_params=self.plan.variant.get("params"),
                persistent=True,
            )
        return self._log_context

    def close(self) -> None:
        """Release the trial's TensorBoard handler (done for you when it finishes or fails)."""
        context, self._log_context = self._log_context, None
        if context is not None:
            context.close()

    def run_step(self) -> tuple[bool, float | None, float | None]:
        """One ``run()`` call; returns (finished, metric, score) and writes the checkpoint."""
        try:
            result = self._run_step()
        except BaseException:
            self.close()
            raise
        if self.done:
            self.close()
        return result

    def _run_step(self) -> tuple[bool, float | None, float | None]:
        from flambe.errors import FlambeError

        if self.plan.debug:
            print(
                f"flambe: stopping before {self.plan.stage}.run() (step {self.step + 1}); "
                "'c' continues"
            )
            pdb.set_trace()
        started = time.perf_counter()
        with self._logging():
            more = self.component.run()
        self.step += 1
        metric = self.component.metric()
        if metric is not None:
            metric = float(metric)
            if not math.isfinite(metric):  # NaN or infinite: diverged or broken, never ranked
                raise FlambeError(
                    f"stage {self.plan.stage}, variant {self.plan.variant.get('name')}: "
                    f"metric() returned {metric} at step {self.step}; a NaN or infinite "
                    "metric fails the variant",
                    hint="check the training for divergence (learning rate, loss) or the "
                    "metric for empty data; see docs/experiments.md",
                )
        score = score_of(metric, self.direction)
        self.last_metric = metric
        if score is not None and (self.best_score is None or score > self.best_score):
            self.best_score = score
        self.done = not more
        self.elapsed += time.perf_counter() - started
        self.checkpoint()
        return self.done, metric, score

    def checkpoint(self) -> str:
        """Commit the component and the record of its step together (see ``checkpoints``).

        ``trial.json`` in the variant folder is then rewritten as a copy of
        the committed record, for readers.
        """
        from flambe.experiment.checkpoints import RECORD_FILE, commit

        commit(
            self.plan.variant_dir,
            self.component,
            self._record(),
            what=f"{self.plan.stage}/{self.plan.variant['name']}",
        )
        fault_point("trial.committed")
        with open(os.path.join(self.plan.checkpoint_dir, RECORD_FILE), encoding="utf-8") as handle:
            text = handle.read()
        # a copy for readers, rewritten every step: not synced (see checkpoints on durability)
        write_text_atomic(os.path.join(self.plan.variant_dir, TRIAL_FILE), text, sync=False)
        return self.plan.checkpoint_dir

    def _record(self) -> dict[str, Any]:
        """The trial record of the current step."""
        return {
            "id": self.plan.id,
            "step": self.step,
            "done": self.done,
            "last_metric": self.last_metric,
            "best_score": self.best_score,
            "elapsed": round(self.elapsed, 6),
            "direction": self.direction,
            "metric_name": self.metric_name,
            "metric_negated": self.metric_negated,
            "total_steps": self.total_steps,
        }
