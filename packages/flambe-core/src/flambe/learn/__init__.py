"""Training and evaluation components: Trainer, Evaluator, DistillationTrainer, Script.

Names are resolved on first access, so that a config naming ``!Script``
(``flambe validate``, say) does not import torch through this package.
"""

from __future__ import annotations

from flambe.utils.lazy import lazy_attributes

_LAZY = {
    "Trainer": "flambe.learn.trainer",
    "Evaluator": "flambe.learn.evaluator",
    "DistillationTrainer": "flambe.learn.distillation",
    "Script": "flambe.learn.script",
    "select_device": "flambe.learn.utils",
    "TrainerConfigError": "flambe.learn.errors",
    "BatchCheckError": "flambe.learn.errors",
    "NonFiniteLossError": "flambe.learn.errors",
    "UnknownSplitError": "flambe.learn.evaluator",
    "ScriptError": "flambe.learn.script",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
