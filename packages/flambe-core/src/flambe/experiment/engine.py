"""The experiment engine: stages in order, variants up front, reduce, resume.

See :mod:`flambe.experiment.experiment` for what an experiment is. Here:

1. the output folder is checked (an existing one with another config is
   an error unless ``--force`` or ``resume``) and ``experiment.yaml`` written;
2. for each stage, its variants are computed (own options x surviving
   upstream variants), finished ones from an earlier run are reused, and the
   others run, in this process or on Ray Tune;
3. failed variants never feed later stages; ``reduce`` keeps the best k;
4. ``progress.json`` and the experiment-event hooks follow every step.
"""

from __future__ import annotations

import bdb
import hashlib
import logging
import os
import shutil
import traceback
import zlib
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec

from flambe.errors import ConfigError, DiskFullError, FlambeError, RunnableError
from flambe.experiment.checkpoints import prune
from flambe.experiment.environment_record import record_environment
from flambe.experiment.identity import read_variant
from flambe.experiment.progress import ProgressState
from flambe.experiment.trial import TrialPlan, TrialRunner, read_trial
from flambe.experiment.variants import Variant, stage_dependencies, stage_variants, transitive
from flambe.utils.atomic import remove_stale_temps

logger = logging.getLogger(__name__)
_P = ParamSpec("_P")

CONFIG_FILE = "experiment.yaml"
RUN_FILE = "run.json"


class ExperimentFailed(RunnableError):
    """Variants of a stage failed."""


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

    """

    def __init__(
        self, experiment: Any, force: bool = False, verbose: bool = False, debug: bool = False
    ) -> None:
        self.exp = experiment
        self.force = force
        self.verbose = verbose
        self.debug = debug
        self.output = experiment.output_path
        self.variants: dict[str, dict[str, Variant]] = {}
        self.surviving: dict[str, list[Variant]] = {}
        self.live: dict[str, tuple[str, Any]] = {}  # stage -> (variant id, built component)
        self.ray_started = False
        self.failed_stages: list[str] = []
        self.failures: list[tuple[str, str, str]] = []  # (stage, variant name, error text)
        self.deps: dict[str, list[str]] = {}
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
        self._prepare_output()
        self.deps = stage_dependencies(self.exp.pipeline)
        dag = {s: transitive(self.deps, s) for s in self.exp.pipeline}
        self.progress = ProgressState(self.exp.name, self.output, dag, experiment=self.exp)
        self.host.subscribe(self.progress, name=f"progress-{id(self.progress)}")
        status = "failure"
        logger.info("Experiment %s: output in %s", self.exp.name, self.output)
        self.emit(self.host.experiment_started, self.exp, self.output)
        try:
            for stage in self.exp.pipeline:
                self._run_stage(stage)
            status = "success" if not self.failed_stages else "failure"
        except (KeyboardInterrupt, bdb.BdbQuit):
            status = "interrupted"
            raise
        finally:
            self.emit(self.host.experiment_finished, self.exp, self.output, status)
            self.host.unsubscribe(self.progress)
            if self.ray_started:
                import ray

                ray.shutdown()
            self._closing_words(status)
        if self.failed_stages:
            failed = f"stages that did not succeed: {', '.join(self.failed_stages)}"
            first = self._failure_message()
            raise ExperimentFailed(
                f"{first}; {failed}" if first else f"not every variant succeeded ({failed})",
                hint=f"the tracebacks are in {os.path.join(self.output, 'progress.json')}",
            )

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

    # -- output folder ----------------------------------------------------------------------
    def _config_text(self) -> str:
        from flambe.compile import yaml

        return yaml.dump_with_extensions(self.exp, self.exp.extensions or {})

    def _prepare_output(self) -> None:
        """Check the output folder, fix the seed, draw ``!s`` values, write experiment.yaml.

        A folder holding this same config (compared before anything is drawn,
        seed aside when none was given) is continued with the seed it used.
        """
        import json

        import numpy as np

        from flambe.experiment.options import SampledUniformSearchOptions
        from flambe.utils.atomic import write_json_atomic, write_text_atomic

        given_seed = self.exp.seed
        fingerprint = hashlib.sha1(self._config_text().encode()).hexdigest()
        run_file = os.path.join(self.output, RUN_FILE)
        previous: dict[str, Any] = {}
        if os.path.exists(run_file):
            with open(run_file, encoding="utf-8") as handle:
                previous = json.load(handle)
        if os.path.isdir(self.output) and _entries(self.output):
            if self.force:
                logger.info("--force: removing %s", self.output)
                for entry in _entries(self.output):  # the lock file stays: this run holds it
                    path = os.path.join(self.output, entry)
                    if os.path.isdir(path) and not os.path.islink(path):
                        shutil.rmtree(path)
                    else:
                        os.remove(path)
                previous = {}
            elif previous.get("fingerprint") == fingerprint:
                logger.info("%s holds this experiment already: continuing it", self.output)
            elif self.exp.resume:
                logger.info("resuming %s for stages %s", self.output, ", ".join(self.exp.resume))
            else:
                raise ConfigError(
                    f"{self.output} holds the output of another configuration of experiment "
                    f"'{self.exp.name}'",
                    hint="pass --force to replace it, add 'resume: <stage>' to reuse its finished "
                    "stages, or change the experiment's name or save_path",
                )
        if given_seed is None:
            seed = previous.get("seed")
            if seed is None:
                seed = int(np.random.SeedSequence().entropy % 2**31)
            self.exp.set_serializable_attr("seed", int(seed))
        rng = np.random.default_rng(self.exp.seed)
        for option in _options_of(self.exp.pipeline, SampledUniformSearchOptions):
            option.values = None
            option.draw(rng)
        os.makedirs(self.output, exist_ok=True)
        write_json_atomic(run_file, {"fingerprint": fingerprint, "seed": self.exp.seed})
        write_text_atomic(os.path.join(self.output, CONFIG_FILE), self._config_text())
        record_environment(self.output, self._config_file(), self.globals_, self.exp.pipeline)

    def _config_file(self) -> str | None:
        """The config file the experiment was loaded from, when it came from one."""
        location = getattr(getattr(self.exp, "_schema", None), "location", None)
        if location is not None and os.path.isfile(location.file):
            return os.path.abspath(location.file)
        return None

    def _resources(self) -> dict[str, str]:
        """Local paths of the resources; relative ones start from the config file's folder."""
        from flambe.experiment.resources import flatten, materialize, resource_locations

        config = self._config_file()
        schema = getattr(self.exp, "_schema", None)
        written = schema.keywords.get("resources") if schema is not None else None
        return materialize(
            flatten(self.exp.resources),
            base_dir=os.path.dirname(config) if config else ".",
            locations=resource_locations(written) if isinstance(written, Mapping) else None,
        )

    # -- one stage ----------------------------------------------------------------------------
    def _stage_rng(self, stage: str) -> Any:
        import numpy as np

        return np.random.default_rng([int(self.exp.seed), zlib.crc32(stage.encode())])

    def _compute_variants(self, stage: str) -> list[Variant]:
        from flambe.compile import yaml

        parents = [self.surviving[d] for d in self.deps[stage]]
        empty = [d for d, p in zip(self.deps[stage], parents) if not p]
        if empty:
            raise ExperimentFailed(
                f"stage '{stage}' cannot run: no variant of {', '.join(empty)} succeeded",
                hint="see the failures of the earlier stages above and in progress.json",
            )
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
            sources={
                s: str(self.exp.pipeline[s].location)
                for s in configs
                if getattr(self.exp.pipeline[s], "location", None)
            },
        )

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

    def _run_stage(self, stage: str) -> None:
        assert self.progress is not None
        if any(not self.surviving.get(d) for d in self.deps[stage]):
            logger.error(
                "Stage %s: skipped, no variant of %s succeeded",
                stage,
                ", ".join(d for d in self.deps[stage] if not self.surviving.get(d)),
            )
            self.surviving[stage] = []
            self.failed_stages.append(stage)
            self.emit(self.host.stage_started, self.exp, stage, [])
            self.emit(self.host.stage_finished, self.exp, stage, "failure")
            return
        if stage in self.exp.search and not self.debug:
            self._run_searched_stage(stage)
            return
        variants = self._compute_variants(stage)
        self.variants[stage] = {v.id: v for v in variants}
        self.emit(self.host.stage_started, self.exp, stage, [v.to_json() for v in variants])
        logger.info("Stage %s: %d variant%s", stage, len(variants), "s" * (len(variants) != 1))
        scores: dict[str, float | None] = {}
        failed: dict[str, str] = {}
        todo: list[Variant] = []
        for variant in variants:
            saved = self._reusable(stage, variant)
            if saved is not None:
                scores[variant.id] = saved.get("best_score")
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
            else:
                if self.exp.resume and stage not in self._resume_set():
                    shutil.rmtree(
                        os.path.join(self.output, stage, variant.name), ignore_errors=True
                    )
                todo.append(variant)
        if todo:
            in_process = self.debug or (
                len(variants) == 1
                and stage not in self.exp.schedulers
                and stage not in self.exp.search
            )
            if in_process:
                for variant in todo:
                    self._run_in_process(stage, variant, scores, failed)
                    if failed and self.exp.stop_on_failure:
                        break
            else:
                self._run_on_ray(stage, todo, scores, failed)
        self._finish_stage(stage, variants, scores, failed)

    def _run_searched_stage(self, stage: str) -> None:
        """A stage whose values a search algorithm proposes, trial by trial."""
        from flambe.compile import yaml
        from flambe.experiment import tune_runner
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
            sources={
                s: str(self.exp.pipeline[s].location)
                for s in upstream + [stage]
                if getattr(self.exp.pipeline[s], "location", None)
            },
        )
        space = search_space(schema, self._stage_rng(stage), lineages)
        samples = int(self.exp.num_samples.get(stage, 1))
        self.variants[stage] = {}
        self.emit(self.host.stage_started, self.exp, stage, [])
        logger.info(
            "Stage %s: %d trials proposed by %s",
            stage,
            samples,
            type(self.exp.search[stage]).__name__,
        )
        if not self.ray_started:
            self.ray_started = tune_runner.start_ray()
        outcome = tune_runner.run_search(
            stage,
            plan,
            space,
            samples,
            storage_path=os.path.join(self.output, ".tune"),
            resources=self._devices(),
            search_alg=self._built(self.exp.search[stage]),
            scheduler=self._built(self.exp.schedulers.get(stage)),
            max_failures=self.exp.max_failures,
            modules=self._modules(),
            on_result=lambda vid, result: self._on_result(stage, vid, result),
            on_error=lambda key, text: self._report_error(stage, f"trial {key}", text),
        )
        variants: list[Variant] = []
        scores: dict[str, float | None] = {}
        failed: dict[str, str] = {}
        for trial in outcome:
            folder = trial["variant_dir"]
            variant = read_variant(folder) if folder else None
            if variant is None:
                failed[trial["trial_id"] or str(len(failed))] = trial["error"] or "no result"
                continue
            variants.append(variant)
            self.variants[stage][variant.id] = variant
            if trial["error"] is not None:
                failed[variant.id] = trial["error"]
                self.progress.variant_update(
                    stage, variant.id, status="failure", error=trial["error"]
                )
            else:
                scores[variant.id] = (read_trial(folder) or {}).get("best_score")
        self._finish_stage(stage, variants, scores, failed)

    def _checkpoint(self, stage: str, variant: Variant) -> str:
        return os.path.join(self.output, stage, variant.name, "checkpoint")

    def _live_upstream(self, stage: str, variant: Variant) -> dict[str, Any]:
        return {u: obj for u, (vid, obj) in self.live.items() if variant.lineage.get(u) == vid}

    def _run_in_process(
        self, stage: str, variant: Variant, scores: dict[str, float | None], failed: dict[str, str]
    ) -> None:
        assert self.progress is not None
        plan = self._plan(stage, variant)
        self.progress.variant_update(stage, variant.id, status="running")
        try:
            runner = TrialRunner(plan, live=self._live_upstream(stage, variant), resume=True)
            while not runner.done:
                done, metric, score = runner.run_step()
                self._on_result(
                    stage,
                    variant.id,
                    {
                        "flambe_step": runner.step,
                        "flambe_metric": metric,
                        "flambe_score": score,
                        "done": done,
                        "flambe_metric_name": runner.metric_name,
                        "flambe_metric_negated": runner.metric_negated,
                        "flambe_total_steps": runner.total_steps,
                        "checkpoint_path": plan.checkpoint_dir,
                    },
                )
            scores[variant.id] = runner.best_score
            self.live[stage] = (variant.id, runner.component)
        except (KeyboardInterrupt, bdb.BdbQuit):  # Ctrl-C, or 'q' in the debugger
            raise
        except DiskFullError:  # the next variant would fail the same way: stop, keep what is done
            raise
        except Exception as exc:
            text = traceback.format_exc()
            self._on_error(stage, variant.id, text)
            failed[variant.id] = text
            if isinstance(exc, FlambeError) and not self.exp.stop_on_failure:
                return

    def _run_on_ray(
        self,
        stage: str,
        todo: list[Variant],
        scores: dict[str, float | None],
        failed: dict[str, str],
    ) -> None:
        from flambe.experiment import tune_runner

        if not self.ray_started:
            self.ray_started = tune_runner.start_ray()
        plans = {v.id: self._plan(stage, v) for v in todo}
        for variant in todo:
            self.progress.variant_update(stage, variant.id, status="running")
        reported: dict[str, str] = {}

        def on_error(vid: str, text: str) -> None:
            reported[vid] = text
            self._on_error(stage, vid, text)

        outcome = tune_runner.run_stage(
            stage,
            plans,
            storage_path=os.path.join(self.output, ".tune"),
            resources=self._devices(),
            scheduler=self._built(self.exp.schedulers.get(stage)),
            search_alg=self._built(self.exp.search.get(stage)),
            max_failures=self.exp.max_failures,
            modules=self._modules(),
            on_result=lambda vid, result: self._on_result(stage, vid, result),
            on_error=on_error,
        )
        _raise_disk_full(outcome.values())
        unfinished = [
            vid
            for vid, error in outcome.items()
            if error is None
            and vid not in reported
            and not (read_trial(plans[vid].variant_dir) or {}).get("done")
        ]
        if unfinished and stage not in self.exp.schedulers:
            # without a scheduler, Tune stops trials early (or never starts them) only when
            # Ctrl-C reached it: a trial that failed has its error reported
            logger.warning(
                "Stage %s: %d variant%s stopped before finishing",
                stage,
                len(unfinished),
                "s" * (len(unfinished) != 1),
            )
            raise KeyboardInterrupt
        for vid, error in outcome.items():
            saved = read_trial(plans[vid].variant_dir) or {}
            if error is None:
                error = reported.get(vid)
            if error is None and not saved.get("step"):
                # Tune may report no error for a trial whose actor never started
                error = (
                    "the trial ended before finishing a step (no trial.json in "
                    f"{plans[vid].variant_dir})"
                )
            if error is not None:
                failed[vid] = error
                self.progress.variant_update(stage, vid, status="failure", error=error)
                continue
            scores[vid] = saved.get("best_score")

    def _built(self, value: Any) -> Any:
        if value is not None and hasattr(value, "component_subclass"):
            return value()
        return value

    def _devices(self) -> dict[str, float]:
        if self.exp.devices:
            return dict(self.exp.devices)
        devices: dict[str, float] = {"cpu": 1}
        try:
            import torch

            if torch.cuda.is_available():
                devices["gpu"] = 1
        except ImportError:  # pragma: no cover
            pass
        return devices

    def _modules(self) -> list[str]:
        """Modules defining the classes of the pipeline, imported by every Ray worker."""
        from flambe.compile import tree
        from flambe.compile.schema import Schema

        found: list[str] = []
        for value in tree.walk(self.exp.pipeline):
            if not isinstance(value, Schema):
                continue
            module = value.component_subclass.__module__
            if module == "__main__":
                raise ConfigError(
                    f"{value.component_subclass.__qualname__} is defined in the script being "
                    "run, which Ray workers cannot import",
                    value.location,
                    hint="move the class into a module or an extension",
                )
            if module not in found and not module.startswith("flambe.compile.wrapped"):
                found.append(module)
        return found

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

    def _finish_stage(
        self,
        stage: str,
        variants: list[Variant],
        scores: dict[str, float | None],
        failed: dict[str, str],
    ) -> None:
        assert self.progress is not None
        names = {v.id: v.name for v in variants}
        entries = self.progress.data["stages"][stage]["variants"]
        for vid, text in failed.items():
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
        ok = [v for v in variants if v.id not in failed and v.id in scores]
        k = int(self.exp.reduce.get(stage, 0) or 0)
        ranked = sorted(
            ok,
            key=lambda v: (
                scores[v.id] is not None,
                scores[v.id] if scores[v.id] is not None else 0.0,
            ),
            reverse=True,
        )
        if k and k > len(ranked) and ranked:
            logger.warning(
                "reduce: %s keeps %d variants but only %d finished: keeping all",
                stage,
                k,
                len(ranked),
            )
        kept = ranked[:k] if k else ranked
        for variant in ok:
            entry = self.progress.data["stages"][stage]["variants"][variant.id]
            if variant not in kept:
                self.progress.variant_update(stage, variant.id, status="reduced")
            elif entry["status"] != "reused":
                self.progress.variant_update(
                    stage, variant.id, status="success", checkpoint=self._checkpoint(stage, variant)
                )
        self.surviving[stage] = kept
        for u in list(self.live):
            if u == stage and self.live[u][0] not in {v.id for v in kept}:
                del self.live[u]
        status = "failure" if failed else "success"
        self.emit(self.host.stage_finished, self.exp, stage, status)
        if failed:
            self.failed_stages.append(stage)
            if self.exp.stop_on_failure:
                raise ExperimentFailed(
                    f"{self._failure_message()}; stopped at stage '{stage}' ({len(failed)} of "
                    f"{max(len(variants), len(failed))} variants failed)",
                    hint=f"its traceback is in {os.path.join(self.output, 'progress.json')}; "
                    "set stop_on_failure: false to go on with the others",
                )


def _raise_disk_full(errors: Any) -> None:
    """Raise a :class:`DiskFullError` when a Ray trial failed on a full disk."""
    import re

    for text in errors:
        found = re.search(r"DiskFullError: (.+)", text or "")
        if found:
            hint = re.search(r"\n\s*hint: (.+)", text[found.end() :])
            raise DiskFullError(
                found.group(1).strip(), hint=hint.group(1).strip() if hint else None
            )


def _entries(folder: str) -> list[str]:
    """What an output folder holds, its lock file aside."""
    from flambe.experiment.lock import LOCK_FILE

    return [e for e in os.listdir(folder) if e != LOCK_FILE]


def _options_of(value: Any, kind: type) -> list[Any]:
    from flambe.compile import tree

    return [node for node in tree.walk(value) if isinstance(node, kind)]
