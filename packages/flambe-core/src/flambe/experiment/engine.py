"""The experiment engine: the algorithm of the docs' "Experiments" page.

See :mod:`flambe.experiment.experiment` for what an experiment is. Here:

1. the output folder is checked (an existing one with another config is
   an error unless ``--force`` or ``resume``), the seed fixed and
   ``experiment.yaml`` written (:mod:`~flambe.experiment.output`);
2. for each stage, in order, its variants are computed (own options x
   surviving upstream variants, :mod:`~flambe.experiment.variants`),
   finished ones from an earlier run are reused, and the others run on the
   executor the stage gets (:mod:`~flambe.experiment.executors`: in this
   process, a local pool, Ray Tune);
3. failed variants never feed later stages; ``reduce`` keeps the best k
   (:mod:`~flambe.experiment.reduce`);
4. ``progress.json`` and the experiment-event hooks follow every step.
"""

from __future__ import annotations

import bdb
import dataclasses
import logging
import os
import shutil
import zlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ParamSpec

from flambe.errors import ConfigError, DiskFullError, ExperimentFailed
from flambe.experiment.checkpoints import prune
from flambe.experiment.environment_record import record_environment
from flambe.experiment.executors.base import Executor, StageEvents, StageJob, StageOutcome
from flambe.experiment.executors.choice import RunOptions, choose_executor
from flambe.experiment.output import CONFIG_FILE, RUN_FILE, prepare_output
from flambe.experiment.progress import ProgressState
from flambe.experiment.reduce import reduce_variants
from flambe.experiment.trial import TrialPlan, read_trial
from flambe.experiment.variants import Variant, stage_dependencies, stage_variants, transitive
from flambe.experiment.workers import pipeline_modules, trial_devices
from flambe.utils.atomic import remove_stale_temps

if TYPE_CHECKING:  # pragma: no cover - types only
    from flambe.plugins.types import ExperimentStatus

logger = logging.getLogger(__name__)
_P = ParamSpec("_P")

__all__ = ["CONFIG_FILE", "RUN_FILE", "Engine", "ExperimentFailed"]


class Engine:
    """Runs one :class:`~flambe.experiment.Experiment`.

    Parameters
    ----------
    experiment : Experiment
        What to run.
    force : bool
        Replace an existing output folder of this experiment.
    verbose : bool
        Show every log record of the trials.
    debug : bool
        Run every variant in this process, stopping in pdb before each ``run()``.
    options : RunOptions, optional
        How the run was started (``--executor``, ``--ray-address``...);
        by default read from this process (``RAY_ADDRESS``).

    """

    def __init__(
        self,
        experiment: Any,
        force: bool = False,
        verbose: bool = False,
        debug: bool = False,
        options: RunOptions | None = None,
    ) -> None:
        self.exp = experiment
        self.force = force
        self.verbose = verbose
        self.debug = debug
        self.options = options or RunOptions.from_environment()
        if debug and not self.options.debug:
            self.options = dataclasses.replace(self.options, debug=True)
        self.output: str = experiment.output_path
        self.variants: dict[str, dict[str, Variant]] = {}
        self.surviving: dict[str, list[Variant]] = {}
        self.live: dict[str, tuple[str, Any]] = {}  # stage -> (variant id, built component)
        self.executors: dict[str, Executor] = {}
        self.failed_stages: list[str] = []
        self.failures: list[tuple[str, str, str]] = []  # (stage, variant name, error text)
        self.deps: dict[str, list[str]] = {}
        self.globals_: dict[str, str] = {}
        self.progress: ProgressState | None = None
        from flambe.plugins.manager import get_host

        self.host = get_host()

    # -- events -----------------------------------------------------------------------
    def emit(self, event: Callable[_P, None], *args: _P.args, **kwargs: _P.kwargs) -> None:
        """Call an event method of the plugin host (``self.host.trial_result``...)."""
        try:
            event(*args, **kwargs)
        except DiskFullError:  # progress.json could not be written
            raise
        except Exception:  # a subscriber must not break the experiment
            logger.exception("a plugin failed while handling %s", event.__name__)
        error = self.progress.write_error if self.progress is not None else None
        if error is not None and event != self.host.experiment_finished:
            assert self.progress is not None
            self.progress.write_error = None
            raise error

    # -- the run --------------------------------------------------------------------------
    def run(self) -> None:
        """Run the experiment, holding its output folder's lock throughout (see ``lock``)."""
        from flambe.experiment.lock import OutputLock

        for problem in self.exp.check_keys():
            raise problem
        # config problems come first: before the output folder is looked at or created
        from flambe.compile.preflight import preflight

        preflight(getattr(self.exp, "_schema", None))
        self.globals_ = self._resources()
        with OutputLock(self.output, what=f"experiment {self.exp.name}"):
            remove_stale_temps(self.output)  # half-written files of a killed run
            self._run_locked()

    def _run_locked(self) -> None:
        prepare_output(self.exp, self.output, self.force)
        record_environment(self.output, self._config_file(), self.globals_, self.exp.pipeline)
        self.deps = stage_dependencies(self.exp.pipeline)
        dag = {s: transitive(self.deps, s) for s in self.exp.pipeline}
        self.progress = ProgressState(self.exp.name, self.output, dag, experiment=self.exp)
        self.host.subscribe(self.progress, name=f"progress-{id(self.progress)}")
        status: ExperimentStatus = "failure"
        logger.info("Experiment %s: output in %s", self.exp.name, self.output)
        self.emit(self.host.experiment_started, self.exp, self.output)
        try:
            self._prewarm()
            for stage in self.exp.pipeline:
                self._run_stage(stage)
            status = "success" if not self.failed_stages else "failure"
        except (KeyboardInterrupt, bdb.BdbQuit):
            status = "interrupted"
            raise
        finally:
            self.emit(self.host.experiment_finished, self.exp, self.output, status)
            self.host.unsubscribe(self.progress)
            self._close_executors()
            self._closing_words(status)
        if self.failed_stages:
            failed = f"stages that did not succeed: {', '.join(self.failed_stages)}"
            first = self._failure_message()
            raise ExperimentFailed(
                f"{first}; {failed}" if first else f"not every variant succeeded ({failed})",
                hint=f"the tracebacks are in {os.path.join(self.output, 'progress.json')}",
            )

    def _prewarm(self) -> None:
        """Start the local pool's fork server early when a stage with options will need it."""
        from flambe.experiment.executors.local import LocalExecutor
        from flambe.experiment.variants import contains_option

        for stage, schema in self.exp.pipeline.items():
            if not contains_option(schema) or stage in self.exp.search:
                continue
            try:
                name, _ = choose_executor(stage, self.exp, self.options)
            except ConfigError:  # reported when the stage runs
                continue
            if name == "local":
                executor = self._executor(name)
                if isinstance(executor, LocalExecutor):
                    # a later stage without options (an evaluation) is built in this process
                    stages = list(self.exp.pipeline)
                    later = stages[stages.index(stage) + 1 :]
                    here = any(not contains_option(self.exp.pipeline[s]) for s in later)
                    executor.prewarm(self._modules(), here_too=here)
                return

    def _close_executors(self) -> None:
        for executor in self.executors.values():
            try:
                executor.close()
            except Exception:  # closing must not hide why the experiment ended
                logger.exception("closing executor %s failed", executor.name)
        self.executors.clear()

    def _failure_message(self) -> str | None:
        """Name the first failed variant (stage, name, error's first line), and count the others."""
        from flambe.experiment.summary import error_headline

        if not self.failures:
            return None
        stage, name, text = self.failures[0]
        message = f"stage '{stage}', variant '{name}' failed: {error_headline(text)}"
        more = len(self.failures) - 1
        if more:
            message += f" (and {more} more failed variant{'s' * (more != 1)})"
        return message

    def _closing_words(self, status: str) -> None:
        from flambe.experiment.summary import best_checkpoint, render_summary, tensorboard_hint

        if self.progress is not None:
            logger.info("%s", render_summary(self.progress.data))
            best = best_checkpoint(self.progress.data)
            if best is not None:
                logger.info("Best %s checkpoint: flambe.load(%r)", *best)
        logger.info("Experiment %s: %s. Outputs: %s", self.exp.name, status, self.output)
        logger.info("%s", tensorboard_hint(self.output))

    # -- what the stages share ----------------------------------------------------------------
    def _config_file(self) -> str | None:
        """Return the config file the experiment was loaded from, when it came from one."""
        location = getattr(getattr(self.exp, "_schema", None), "location", None)
        if location is not None and os.path.isfile(location.file):
            return str(os.path.abspath(location.file))
        return None

    def _resources(self) -> dict[str, str]:
        """Return local paths of the resources; relative ones start from the config's folder."""
        from flambe.experiment.resources import flatten, materialize, resource_locations

        config = self._config_file()
        schema = getattr(self.exp, "_schema", None)
        written = schema.keywords.get("resources") if schema is not None else None
        found: dict[str, str] = materialize(
            flatten(self.exp.resources),
            base_dir=os.path.dirname(config) if config else ".",
            locations=resource_locations(written) if isinstance(written, Mapping) else None,
        )
        return found

    def _stage_rng(self, stage: str) -> Any:
        import numpy as np

        return np.random.default_rng([int(self.exp.seed), zlib.crc32(stage.encode())])

    def _sources(self, stages: list[str]) -> dict[str, str]:
        return {
            s: str(self.exp.pipeline[s].location)
            for s in stages
            if getattr(self.exp.pipeline[s], "location", None)
        }

    # -- one stage ----------------------------------------------------------------------------
    def _run_stage(self, stage: str) -> None:
        """Run one stage: its variants, the reuse of finished ones, its executor, reduce."""
        missing = [d for d in self.deps[stage] if not self.surviving.get(d)]
        if missing:
            self._skip_stage(stage, missing)
            return
        if stage in self.exp.search and not self.debug:
            self._run_searched_stage(stage)
            return
        variants = self._compute_variants(stage)
        self.variants[stage] = {v.id: v for v in variants}
        self.emit(self.host.stage_started, self.exp, stage, [v.to_json() for v in variants])
        logger.info("Stage %s: %d variant%s", stage, len(variants), "s" * (len(variants) != 1))
        outcome = StageOutcome()
        todo = [v for v in variants if not self._reuse(stage, v, outcome)]
        if todo:
            name, reason = choose_executor(stage, self.exp, self.options, count=len(variants))
            logger.debug("Stage %s runs on executor %s: %s", stage, name, reason)
            job = self._job(stage, {v.id: self._plan(stage, v) for v in todo})
            job.live = {v.id: self._live_upstream(v) for v in todo}
            ran = self._executor(name).run(job, self._events(stage))
            outcome.scores.update(ran.scores)
            outcome.failed.update(ran.failed)
            if ran.live is not None:
                self.live[stage] = ran.live
        self._finish_stage(stage, variants, outcome)

    def _skip_stage(self, stage: str, missing: list[str]) -> None:
        logger.error("Stage %s: skipped, no variant of %s succeeded", stage, ", ".join(missing))
        self.surviving[stage] = []
        self.failed_stages.append(stage)
        self.emit(self.host.stage_started, self.exp, stage, [])
        self.emit(self.host.stage_finished, self.exp, stage, "failure")

    def _compute_variants(self, stage: str) -> list[Variant]:
        from flambe.compile import yaml

        parents = [self.surviving[d] for d in self.deps[stage]]
        variants = stage_variants(
            stage,
            self.exp.pipeline[stage],
            self._stage_rng(stage),
            int(self.exp.num_samples.get(stage, 1)),
            parents,
            yaml.dump,
        )
        if not variants:
            raise ConfigError(
                f"stage '{stage}' has no variant to run",
                hint="an upstream stage lost every variant (failures or reduce)",
            )
        if len(variants) > self.exp.max_variants:
            raise ConfigError(
                f"stage '{stage}' expands to {len(variants)} variants, more than "
                f"max_variants ({self.exp.max_variants})",
                hint="raise max_variants on the experiment if this is intended",
            )
        return variants

    def _plan(self, stage: str, variant: Variant) -> TrialPlan:
        configs: dict[str, str] = {}
        checkpoints: dict[str, str] = {}
        for upstream in transitive(self.deps, stage):
            parent = self.variants[upstream][variant.lineage[upstream]]
            configs[upstream] = parent.config_text
            checkpoints[upstream] = os.path.join(self.output, upstream, parent.name, "checkpoint")
        configs[stage] = variant.config_text
        return TrialPlan(
            stage=stage,
            variant=variant.to_json(),
            configs=configs,
            checkpoints=checkpoints,
            variant_dir=os.path.join(self.output, stage, variant.name),
            globals_=self.globals_,
            extensions=dict(self.exp.extensions or {}),
            file=self._config_file() or "<experiment>",
            seed=int(self.exp.seed),
            debug=self.debug,
            verbose=self.verbose,
            sources=self._sources(list(configs)),
        )

    def _job(self, stage: str, plans: dict[str, TrialPlan]) -> StageJob:
        """Return what an executor needs to run ``plans`` of ``stage``."""
        return StageJob(
            stage=stage,
            plans=plans,
            output=self.output,
            resources=self._devices(),
            max_failures=int(self.exp.max_failures),
            stop_on_failure=bool(self.exp.stop_on_failure),
            scheduler=_built(self.exp.schedulers.get(stage)),
            search_alg=_built(self.exp.search.get(stage)),
            modules=self._modules(),
        )

    def _executor(self, name: str) -> Executor:
        """Return the executor called ``name``, made on first use and kept for the experiment."""
        from flambe.experiment.executors.registry import executor_class

        if name not in self.executors:
            self.executors[name] = executor_class(name)(verbose=self.verbose)
        return self.executors[name]

    def _events(self, stage: str) -> StageEvents:
        assert self.progress is not None
        progress = self.progress
        return StageEvents(
            on_start=lambda vid: progress.variant_update(stage, vid, status="running"),
            on_result=lambda vid, result: self._on_result(stage, vid, result),
            on_error=lambda vid, text: self._on_error(stage, vid, text),
            on_failure=lambda vid, text: progress.variant_update(
                stage, vid, status="failure", error=text
            ),
            on_trial_error=lambda key, text: self._report_error(stage, f"trial {key}", text),
        )

    def _reuse(self, stage: str, variant: Variant, outcome: StageOutcome) -> bool:
        """Reuse a variant an earlier run finished (recording it); say whether it was."""
        assert self.progress is not None
        saved = self._reusable(stage, variant)
        if saved is None:
            if self.exp.resume and stage not in self._resume_set():
                shutil.rmtree(os.path.join(self.output, stage, variant.name), ignore_errors=True)
            return False
        outcome.scores[variant.id] = saved.get("best_score")
        self.progress.variant_update(
            stage,
            variant.id,
            status="reused",
            reused=True,
            step=saved.get("step", 0),
            metric_name=saved.get("metric_name"),
            metric_negated=saved.get("metric_negated"),
            total_steps=saved.get("total_steps"),
            metric=saved.get("last_metric"),
            score=saved.get("best_score"),
            checkpoint=self._checkpoint(stage, variant),
        )
        return True

    def _reusable(self, stage: str, variant: Variant) -> dict[str, Any] | None:
        if self.exp.resume and stage not in self._resume_set():
            return None
        folder = os.path.join(self.output, stage, variant.name)
        saved = read_trial(folder)
        if saved and saved.get("id") == variant.id and saved.get("done"):
            prune(folder)  # what a run killed right after the last commit left
            return saved
        return None

    def _resume_set(self) -> set[str]:
        stages = list(self.exp.pipeline)
        out: set[str] = set()
        for name in self.exp.resume:
            if getattr(self.exp, "resume_up_to", False):
                out.update(stages[: stages.index(name) + 1])
            else:
                out.add(name)
        return out

    def _run_searched_stage(self, stage: str) -> None:
        """Run a stage whose values a search algorithm proposes, trial by trial."""
        job = self._job(stage, {})
        job.search, job.space = self._search_plan(stage)
        job.samples = int(self.exp.num_samples.get(stage, 1))
        self.variants[stage] = {}
        self.emit(self.host.stage_started, self.exp, stage, [])
        logger.info(
            "Stage %s: %d trials proposed by %s",
            stage,
            job.samples,
            type(self.exp.search[stage]).__name__,
        )
        name, _ = choose_executor(stage, self.exp, self.options)
        outcome = self._executor(name).run(job, self._events(stage))
        for variant in outcome.found:
            self.variants[stage][variant.id] = variant
        self._finish_stage(stage, outcome.found, outcome)

    def _search_plan(self, stage: str) -> tuple[Any, dict[str, Any]]:
        """Return what each trial of a searched stage needs, and the stage's search space."""
        from flambe.compile import yaml
        from flambe.experiment.search import SearchPlan, search_space
        from flambe.experiment.variants import consistent_lineages

        parents = [self.surviving[d] for d in self.deps[stage]]
        lineages = consistent_lineages(parents)
        if parents and not lineages:
            raise ConfigError(f"stage '{stage}' has no upstream variant to build on")
        upstream = transitive(self.deps, stage)
        schema = self.exp.pipeline[stage]
        plan = SearchPlan(
            stage=stage,
            config_text=yaml.dump(schema),
            seed=int(self.exp.seed),
            lineages=lineages,
            upstream_configs={
                u: {vid: v.config_text for vid, v in self.variants[u].items()} for u in upstream
            },
            upstream_dirs={
                u: {
                    vid: os.path.join(self.output, u, v.name) for vid, v in self.variants[u].items()
                }
                for u in upstream
            },
            output=self.output,
            order=list(self.exp.pipeline),
            globals_=self.globals_,
            extensions=dict(self.exp.extensions or {}),
            verbose=self.verbose,
            sources=self._sources([*upstream, stage]),
        )
        return plan, search_space(schema, self._stage_rng(stage), lineages)

    def _checkpoint(self, stage: str, variant: Variant) -> str:
        return os.path.join(self.output, stage, variant.name, "checkpoint")

    def _live_upstream(self, variant: Variant) -> dict[str, Any]:
        return {u: obj for u, (vid, obj) in self.live.items() if variant.lineage.get(u) == vid}

    def _devices(self) -> dict[str, float]:
        return trial_devices(self.exp.devices)

    def _modules(self) -> list[str]:
        """Return the modules defining the classes of the pipeline (workers import them)."""
        return pipeline_modules(self.exp.pipeline)

    # -- results --------------------------------------------------------------------------
    def _on_result(self, stage: str, vid: str, result: Mapping[str, Any]) -> None:
        metric, score = result.get("flambe_metric"), result.get("flambe_score")
        known = self.variants[stage].get(vid)
        name = known.name if known is not None else result.get("flambe_name", vid)
        payload = {
            "step": result.get("flambe_step"),
            "metric": metric,
            "score": score,
            "name": name,
            "metric_name": result.get("flambe_metric_name"),
            "metric_negated": result.get("flambe_metric_negated"),
            "total_steps": result.get("flambe_total_steps"),
            "params": known.params if known is not None else result.get("flambe_params", {}),
            "host": result.get("hostname"),
        }
        self.emit(self.host.trial_result, self.exp, stage, vid, payload)
        if result.get("checkpoint_path"):
            self.emit(self.host.checkpoint_written, self.exp, stage, vid, result["checkpoint_path"])
        if result.get("done") and self.progress is not None:
            self.progress.variant_update(stage, vid, status="success")  # finished: at once
        if metric is not None:
            from flambe.experiment.summary import metric_text, step_text

            logger.info(
                "%s/%s %s: %s",
                stage,
                name,
                step_text(result.get("flambe_step"), result.get("flambe_total_steps")),
                metric_text(
                    metric,
                    result.get("flambe_metric_name"),
                    bool(result.get("flambe_metric_negated")),
                ),
            )

    def _on_error(self, stage: str, vid: str, text: str) -> None:
        """Report a trial that failed for good (after its retries) and mark it failed."""
        assert self.progress is not None
        known = self.variants[stage].get(vid)
        self._report_error(stage, known.name if known else vid, text)
        self.progress.variant_update(stage, vid, status="failure", error=text)

    def _report_error(self, stage: str, name: str, text: str) -> None:
        """One line on the console; the traceback in the log file (on the console with -v)."""
        from flambe.experiment.summary import error_headline

        logger.error("%s/%s failed: %s", stage, name, error_headline(text))
        logger.log(
            logging.ERROR if self.verbose else logging.DEBUG,
            "traceback of %s/%s:\n%s",
            stage,
            name,
            text,
        )

    def _finish_stage(self, stage: str, variants: list[Variant], outcome: StageOutcome) -> None:
        """Record failures, reduce, mark what is kept, and stop when ``stop_on_failure``."""
        failed = outcome.failed
        self._record_failures(stage, variants, failed)
        ok = [v for v in variants if v.id not in failed and v.id in outcome.scores]
        k = int(self.exp.reduce.get(stage, 0) or 0)
        kept = reduce_variants(stage, ok, outcome.scores, k)
        self._mark_kept(stage, ok, kept)
        self.surviving[stage] = kept
        if stage in self.live and self.live[stage][0] not in {v.id for v in kept}:
            del self.live[stage]
        self.emit(self.host.stage_finished, self.exp, stage, "failure" if failed else "success")
        if failed:
            self.failed_stages.append(stage)
            if self.exp.stop_on_failure:
                raise ExperimentFailed(
                    f"{self._failure_message()}; stopped at stage '{stage}' ({len(failed)} of "
                    f"{max(len(variants), len(failed))} variants failed)",
                    hint=f"its traceback is in {os.path.join(self.output, 'progress.json')}; "
                    "set stop_on_failure: false to go on with the others",
                )

    def _record_failures(
        self, stage: str, variants: list[Variant], failed: Mapping[str, str]
    ) -> None:
        assert self.progress is not None
        names = {v.id: v.name for v in variants}
        entries = self.progress.data["stages"][stage]["variants"]
        # in the stage's order of variants, not the order they happened to fail in
        order = [v.id for v in variants if v.id in failed] + [i for i in failed if i not in names]
        for vid in order:
            text = failed[vid]
            self.failures.append((stage, names.get(vid, vid), text))
            entry = entries.get(vid)
            if entry is not None:
                checkpoint = entry.get("checkpoint")
                self.progress.variant_update(
                    stage,
                    vid,
                    status="failure",
                    error=entry.get("error") or text,
                    checkpoint=checkpoint if checkpoint and os.path.isdir(checkpoint) else None,
                )

    def _mark_kept(self, stage: str, finished: list[Variant], kept: list[Variant]) -> None:
        assert self.progress is not None
        for variant in finished:
            entry = self.progress.data["stages"][stage]["variants"][variant.id]
            if variant not in kept:
                self.progress.variant_update(stage, variant.id, status="reduced")
            elif entry["status"] != "reused":
                self.progress.variant_update(
                    stage, variant.id, status="success", checkpoint=self._checkpoint(stage, variant)
                )


def _built(value: Any) -> Any:
    """Build a scheduler or search algorithm given as a config (a Schema); others pass."""
    if value is not None and hasattr(value, "component_subclass"):
        return value()
    return value
