"""Optimisation helpers: learning-rate schedules usable from YAML."""

from flambe.optim.scheduler import ConstantWarmup, LinearWarmupDecay, NoamScheduler

WarmupLinearScheduler = LinearWarmupDecay
WarmupConstantScheduler = ConstantWarmup

__all__ = [
    "LinearWarmupDecay",
    "ConstantWarmup",
    "NoamScheduler",
    "WarmupLinearScheduler",
    "WarmupConstantScheduler",
]
