"""Experiments: pipelines of stages, search options, variants, reduce, resume."""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Experiment": "flambe.experiment.experiment",
    "GridSearchOptions": "flambe.experiment.options",
    "SampledUniformSearchOptions": "flambe.experiment.options",
    "UniformDistribution": "flambe.experiment.options",
    "LogUniformDistribution": "flambe.experiment.options",
    "IntegerDistribution": "flambe.experiment.options",
    "ChoiceDistribution": "flambe.experiment.options",
    "ProgressState": "flambe.experiment.progress",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flambe.experiment' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
