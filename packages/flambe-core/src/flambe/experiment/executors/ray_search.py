"""The Ray search executor: a stage whose values a search algorithm proposes.

The variants cannot be listed up front: each trial resolves its own config,
identity and folder from the values proposed (see
:class:`~flambe.experiment.search.SearchPlan`), and the executor reads the
variants back from their folders when the Tune run ends.
"""

from __future__ import annotations

import os

from flambe.experiment.executors.base import StageEvents, StageJob, StageOutcome
from flambe.experiment.executors.ray_grid import RayExecutor
from flambe.experiment.identity import read_variant
from flambe.experiment.trial import read_trial


class RaySearchExecutor(RayExecutor):
    """Runs ``job.samples`` trials proposed by ``job.search_alg`` on Ray Tune."""

    name = "ray_search"

    def run(self, job: StageJob, events: StageEvents) -> StageOutcome:
        """Run the searched stage; return the variants found, their scores and errors."""
        from flambe.experiment import tune_runner

        self.start()
        trials = tune_runner.run_search(
            job.stage,
            job.search,
            job.space or {},
            job.samples,
            storage_path=os.path.join(job.output, ".tune"),
            resources=job.resources,
            search_alg=job.search_alg,
            scheduler=job.scheduler,
            max_failures=job.max_failures,
            modules=job.modules,
            on_result=events.on_result,
            on_error=events.on_trial_error,
        )
        outcome = StageOutcome()
        for trial in trials:
            folder = trial["variant_dir"]
            variant = read_variant(folder) if folder else None
            if variant is None:
                key = trial["trial_id"] or str(len(outcome.failed))
                outcome.failed[key] = trial["error"] or "no result"
                continue
            outcome.found.append(variant)
            if trial["error"] is not None:
                outcome.failed[variant.id] = trial["error"]
                events.on_failure(variant.id, trial["error"])
            else:
                outcome.scores[variant.id] = (read_trial(folder) or {}).get("best_score")
        return outcome
