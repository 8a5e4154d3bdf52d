"""The Ray executor: the listed variants of a stage as one Ray Tune run.

Each variant is a trial of :class:`~flambe.experiment.tune_runner.FlambeTrainable`;
Tune schedules them over the Ray instance (local, or a cluster with
``--cluster``/``--ray-address``), applies the stage's scheduler and retries
failing trials ``max_failures`` times from their last checkpoint.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable

from flambe.errors import DiskFullError
from flambe.experiment.executors.base import Executor, StageEvents, StageJob, StageOutcome
from flambe.experiment.trial import read_trial

logger = logging.getLogger(__name__)


class RayExecutor(Executor):
    """Runs a stage's variants on Ray Tune, starting a local Ray when none is connected."""

    name = "ray"

    def __init__(self, verbose: bool = False) -> None:
        super().__init__(verbose)
        self.ray_started = False

    def start(self) -> None:
        """Start (or connect to) Ray, once for the whole experiment."""
        from flambe.experiment import tune_runner

        self.ray_started = tune_runner.start_ray() or self.ray_started

    def close(self) -> None:
        """Shut down the Ray instance this executor started."""
        if self.ray_started:
            import ray

            ray.shutdown()
            self.ray_started = False

    def run(self, job: StageJob, events: StageEvents) -> StageOutcome:
        """Run every plan of ``job`` as a trial of one Tune run."""
        from flambe.experiment import tune_runner

        self.start()
        for vid in job.plans:
            events.on_start(vid)
        reported: dict[str, str] = {}

        def on_error(vid: str, text: str) -> None:
            reported[vid] = text
            events.on_error(vid, text)

        errors = tune_runner.run_stage(
            job.stage,
            job.plans,
            storage_path=os.path.join(job.output, ".tune"),
            resources=job.resources,
            scheduler=job.scheduler,
            search_alg=job.search_alg,
            max_failures=job.max_failures,
            modules=job.modules,
            on_result=events.on_result,
            on_error=on_error,
        )
        raise_disk_full(errors.values())
        if job.scheduler is None:
            stop_if_interrupted(job, errors, reported)
        return self._outcome(job, errors, reported, events)

    def _outcome(
        self,
        job: StageJob,
        errors: dict[str, str | None],
        reported: dict[str, str],
        events: StageEvents,
    ) -> StageOutcome:
        outcome = StageOutcome()
        for vid, error in errors.items():
            saved = read_trial(job.plans[vid].variant_dir) or {}
            if error is None:
                error = reported.get(vid)
            if error is None and not saved.get("step"):
                # Tune may report no error for a trial whose actor never started
                error = (
                    "the trial ended before finishing a step (no trial.json in "
                    f"{job.plans[vid].variant_dir})"
                )
            if error is not None:
                outcome.failed[vid] = error
                events.on_failure(vid, error)
                continue
            outcome.scores[vid] = saved.get("best_score")
        return outcome


def stop_if_interrupted(
    job: StageJob, errors: dict[str, str | None], reported: dict[str, str]
) -> None:
    """Raise ``KeyboardInterrupt`` when trials stopped unfinished without an error.

    Without a scheduler, Tune stops trials early (or never starts them) only
    when Ctrl-C reached it: a trial that failed has its error reported.
    """
    unfinished = [
        vid
        for vid, error in errors.items()
        if error is None
        and vid not in reported
        and not (read_trial(job.plans[vid].variant_dir) or {}).get("done")
    ]
    if unfinished:
        logger.warning(
            "Stage %s: %d variant%s stopped before finishing",
            job.stage,
            len(unfinished),
            "s" * (len(unfinished) != 1),
        )
        raise KeyboardInterrupt


def raise_disk_full(errors: Iterable[str | None]) -> None:
    """Raise a :class:`DiskFullError` when a trial failed on a full disk."""
    for text in errors:
        found = re.search(r"DiskFullError: (.+)", text or "")
        if found and text is not None:
            hint = re.search(r"\n\s*hint: (.+)", text[found.end() :])
            raise DiskFullError(
                found.group(1).strip(), hint=hint.group(1).strip() if hint else None
            )
