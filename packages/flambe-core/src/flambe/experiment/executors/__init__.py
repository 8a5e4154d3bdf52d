"""Executors: the ways of running the variants of a stage, found by name.

Core declares ``in_process``, ``local``, ``ray`` and ``ray_search`` through
the ``flambe_experiment_executors`` hook, like any plugin that adds one (a
batch system, a remote pool). :func:`choose_executor` says which one a stage
gets and why; :func:`executor_class` finds one by name. Importing this
package costs nothing: the names below load on first use.
"""

from __future__ import annotations

from flambe.utils.lazy import lazy_attributes

CORE_EXECUTORS: dict[str, str] = {
    "in_process": "flambe.experiment.executors.in_process:InProcessExecutor",
    "local": "flambe.experiment.executors.local:LocalExecutor",
    "ray": "flambe.experiment.executors.ray_grid:RayExecutor",
    "ray_search": "flambe.experiment.executors.ray_search:RaySearchExecutor",
}

_LAZY = {
    "Executor": "flambe.experiment.executors.base",
    "StageEvents": "flambe.experiment.executors.base",
    "StageJob": "flambe.experiment.executors.base",
    "StageOutcome": "flambe.experiment.executors.base",
    "RunOptions": "flambe.experiment.executors.choice",
    "choose_executor": "flambe.experiment.executors.choice",
    "requested_executor": "flambe.experiment.executors.choice",
    "available_executors": "flambe.experiment.executors.registry",
    "executor_class": "flambe.experiment.executors.registry",
}

__all__ = sorted([*_LAZY, "CORE_EXECUTORS"])

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
