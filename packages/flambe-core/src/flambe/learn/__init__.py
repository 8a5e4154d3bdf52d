"""Training and evaluation components: Trainer, Evaluator, DistillationTrainer, Script."""

from flambe.learn.distillation import DistillationTrainer
from flambe.learn.errors import BatchCheckError, NonFiniteLossError, TrainerConfigError
from flambe.learn.evaluator import Evaluator, UnknownSplitError
from flambe.learn.script import Script, ScriptError
from flambe.learn.trainer import Trainer
from flambe.learn.utils import select_device

__all__ = [
    "Trainer",
    "Evaluator",
    "DistillationTrainer",
    "Script",
    "select_device",
    "TrainerConfigError",
    "BatchCheckError",
    "NonFiniteLossError",
    "UnknownSplitError",
    "ScriptError",
]
