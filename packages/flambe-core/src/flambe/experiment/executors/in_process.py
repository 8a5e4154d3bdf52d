"""The in-process executor: variants run one after the other in the engine's process.

Used for a stage with one variant to run and no scheduler or search
algorithm (no pool, no Ray to start), and for every stage under ``--debug``
(pdb needs the terminal). Upstream components built in this process are
reused as they are instead of being loaded from their checkpoints.
"""

from __future__ import annotations

import bdb
import traceback
from typing import Any

from flambe.errors import DiskFullError
from flambe.experiment.executors.base import Executor, StageEvents, StageJob, StageOutcome
from flambe.experiment.trial import TrialPlan, TrialRunner, trial_result


class InProcessExecutor(Executor):
    """Runs each variant in this process, one after the other."""

    name = "in_process"

    def run(self, job: StageJob, events: StageEvents) -> StageOutcome:
        """Run the variants in order; stop at the first failure with ``stop_on_failure``."""
        outcome = StageOutcome()
        for vid, plan in job.plans.items():
            self._run_one(plan, job.live.get(vid, {}), events, outcome)
            if outcome.failed and job.stop_on_failure:
                break
        return outcome

    def _run_one(
        self, plan: TrialPlan, live: dict[str, Any], events: StageEvents, outcome: StageOutcome
    ) -> None:
        events.on_start(plan.id)
        try:
            runner = TrialRunner(plan, live=live, resume=True)
            while not runner.done:
                done, metric, score = runner.run_step()
                events.on_result(plan.id, trial_result(runner, plan, done, metric, score))
            outcome.scores[plan.id] = runner.best_score
            outcome.live = (plan.id, runner.component)
        except (KeyboardInterrupt, bdb.BdbQuit):  # Ctrl-C, or 'q' in the debugger
            raise
        except DiskFullError:  # the next variant would fail the same way: stop, keep what is done
            raise
        except Exception:
            text = traceback.format_exc()
            events.on_error(plan.id, text)
            outcome.failed[plan.id] = text
