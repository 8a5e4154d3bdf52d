"""Experiments: pipelines of stages, search options, variants, reduce, resume."""

from __future__ import annotations

from flambe.utils.lazy import lazy_attributes

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


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
