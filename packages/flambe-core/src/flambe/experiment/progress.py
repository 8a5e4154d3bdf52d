"""The progress document of an experiment: ``progress.json`` at the output root.

It is the contract between the engine and anything that shows progress (the
console, the report site, possibly on another machine): one JSON document,
rewritten atomically, with a schema version. Every change of status (a
stage or variant starting, finishing, failing; the experiment's end) is
written at once; the step and metrics of running variants at most every
:data:`STEP_INTERVAL` seconds (the latest values are never left unwritten
longer than that), so that many short steps do not rewrite the document
several times each. The file is whole at any moment, and complete at the
end of every stage. It lists the
stages (their dependencies and status) and, per stage, each variant: its
parameters, status, step, last and best metric, checkpoint folder and error.

Statuses: ``pending``, ``running``, ``success``, ``failure``, ``reduced``
(finished but not among the best k), ``reused`` (finished in an earlier run
and taken as is), ``interrupted``. A variant taken from an earlier run also
has ``reused: true``, whatever its status (it may be ``reduced`` as well).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flambe.errors import DiskFullError
from flambe.plugins import hookimpl
from flambe.utils.atomic import write_json_atomic  # noqa: F401  (also imported from here)

SCHEMA_VERSION = 1
FILE_NAME = "progress.json"
STEP_INTERVAL = 0.5  # seconds: the most a step's values wait before progress.json shows them


class ProgressState:
    """The progress of one experiment, saved on every change.

    It follows the experiment through the experiment-event hooks (the
    engine registers it as a plugin while the experiment runs), plus a few
    direct updates for what no event carries (reused, reduced and failed
    variants).

    Parameters
    ----------
    name : str
        The experiment's name.
    output_path : str
        Its output folder (``.../output__<name>``).
    dag : dict
        Stage -> the stages it depends on.

    """

    def __init__(
        self, name: str, output_path: str, dag: Mapping[str, Iterable[str]], experiment: Any = None
    ) -> None:
        self.experiment = experiment
        self.path = os.path.join(output_path, FILE_NAME)
        self._lock = threading.RLock()
        self.write_error: DiskFullError | None = None
        self._saved_at = 0.0  # time.monotonic() of the last write
        self._pending: threading.Timer | None = None  # a deferred write of step values
        self.data: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "name": name,
            "output_path": output_path,
            "status": "running",
            "started": time.time(),
            "finished": None,
            "stages": {
                stage: {
                    "status": "pending",
                    "depends_on": list(deps),
                    "started": None,
                    "finished": None,
                    "variants": {},
                }
                for stage, deps in dag.items()
            },
        }
        self.save()

    @classmethod
    def read(cls, output_path: str) -> dict[str, Any] | None:
        """The progress document of an output folder, if any."""
        path = os.path.join(output_path, FILE_NAME)
        if not os.path.exists(path):
            return None
        with open(path, encoding="utf-8") as handle:
            found: dict[str, Any] = json.load(handle)
        return found

    def save(self) -> None:
        """Rewrite ``progress.json``; a full disk is also kept in ``write_error``.

        (The plugin host keeps a subscriber's error from reaching the engine,
        which looks at ``write_error`` after each event instead.)
        """
        with self._lock:
            if self._pending is not None:  # this write includes what it was waiting for
                self._pending.cancel()
                self._pending = None
            try:
                write_json_atomic(self.path, self.data)
            except DiskFullError as exc:
                self.write_error = exc
                raise
            self._saved_at = time.monotonic()

    def save_soon(self) -> None:
        """Write now if the last write is :data:`STEP_INTERVAL` old, else once it is."""
        with self._lock:
            wait = self._saved_at + STEP_INTERVAL - time.monotonic()
            if wait <= 0:
                self.save()
            elif self._pending is None:
                self._pending = threading.Timer(wait, self._deferred_save)
                self._pending.daemon = True
                self._pending.start()

    def _deferred_save(self) -> None:
        with self._lock:
            if self._pending is None:  # written (or cancelled) meanwhile
                return
            self._pending = None
            try:
                self.save()
            except DiskFullError:  # kept in write_error: the engine raises it at its next event
                pass

    def _stage(self, stage: str) -> dict[str, Any]:
        found: dict[str, Any] = self.data["stages"][stage]
        return found

    # -- hooks ----------------------------------------------------------------------
    def _mine(self, experiment: Any) -> bool:
        return self.experiment is None or experiment is self.experiment

    @hookimpl
    def flambe_stage_started(
        self, experiment: Any, stage: str, variants: Sequence[Mapping[str, Any]]
    ) -> None:
        """Record a stage that starts (event hook)."""
        if self._mine(experiment):
            self.stage_started(stage, variants)

    @hookimpl
    def flambe_trial_result(
        self, experiment: Any, stage: str, variant: str, result: Mapping[str, Any]
    ) -> None:
        """Record a step of a variant (event hook)."""
        if self._mine(experiment):
            with self._lock:  # variants proposed by a search algorithm appear as they run
                self._stage(stage)["variants"].setdefault(
                    variant,
                    {
                        "name": result.get("name"),
                        "params": result.get("params", {}),
                        "lineage": result.get("lineage", {}),
                        "status": "running",
                        "step": 0,
                        "last_metric": None,
                        "best_metric": None,
                        "checkpoint": None,
                        "error": None,
                    },
                )
            # host: the machine the trial runs on (one of several on a cluster)
            described = {
                key: result[key]
                for key in ("metric_name", "metric_negated", "total_steps", "host")
                if result.get(key) is not None
            }
            self.variant_update(
                stage,
                variant,
                soon=True,
                status="running",
                step=result.get("step"),
                metric=result.get("metric"),
                score=result.get("score"),
                **described,
            )

    @hookimpl
    def flambe_checkpoint_written(
        self, experiment: Any, stage: str, variant: str, path: str
    ) -> None:
        """Record a variant's checkpoint (event hook)."""
        if self._mine(experiment):
            self.variant_update(stage, variant, soon=True, checkpoint=path)

    @hookimpl
    def flambe_stage_finished(self, experiment: Any, stage: str, status: str) -> None:
        """Record a stage that finished (event hook)."""
        if self._mine(experiment):
            self.stage_finished(stage, status)

    @hookimpl
    def flambe_experiment_finished(self, experiment: Any, output_path: str, status: str) -> None:
        """Record the end of the experiment (event hook)."""
        if self._mine(experiment):
            self.finish(status)

    # -- updates ----------------------------------------------------------------------
    def stage_started(self, stage: str, variants: Sequence[Mapping[str, Any]]) -> None:
        """Record a stage and its variants, all waiting to run."""
        with self._lock:
            info = self._stage(stage)
            info.update(status="running", started=time.time())
            for variant in variants:
                info["variants"][variant["id"]] = {
                    "name": variant["name"],
                    "params": variant["params"],
                    "lineage": variant["lineage"],
                    "status": "pending",
                    "step": 0,
                    "last_metric": None,
                    "best_metric": None,
                    "checkpoint": None,
                    "error": None,
                    "reused": False,
                }
            self.save()

    def variant_update(
        self, stage: str, variant_id: str, soon: bool = False, **fields: Any
    ) -> None:
        """Change fields of a variant's entry and write the document.

        With ``soon``, for a step's values, the write may wait (see :meth:`save_soon`).
        """
        with self._lock:
            entry = self._stage(stage)["variants"].get(variant_id)
            if entry is None:
                return
            metric = fields.pop("metric", None)
            score = fields.pop("score", None)
            if metric is not None:
                entry["last_metric"] = metric
                best = entry.get("best_score")
                if score is not None and (best is None or score > best):
                    entry["best_score"], entry["best_metric"] = score, metric
            entry.update(fields)
            if soon:
                self.save_soon()
            else:
                self.save()

    def stage_finished(self, stage: str, status: str) -> None:
        """Record a stage's final status and write the document."""
        with self._lock:
            self._stage(stage).update(status=status, finished=time.time())
            self.save()

    def finish(self, status: str) -> None:
        """Record the experiment's final status and write the document."""
        with self._lock:
            self.data.update(status=status, finished=time.time())
            for info in self.data["stages"].values():
                if info["status"] == "running":
                    info["status"] = "interrupted" if status == "interrupted" else "failure"
                for entry in info["variants"].values():
                    if entry["status"] in ("running", "pending") and status == "interrupted":
                        entry["status"] = "interrupted"
            self.save()
