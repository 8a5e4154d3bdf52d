"""Components for the tests of seeds, best scores and non-finite metrics (importable by Ray)."""

from __future__ import annotations

import torch

from flambe.compile import Component


class XSeries(Component):
    """Reports ``values[k]`` as its metric after its k-th ``run()`` call, one call per value.

    ``"nan"``, ``"inf"`` and ``"-inf"`` are accepted as values. ``mode`` sets
    ``metric_mode`` (``"max"`` by default).
    """

    def __init__(self, values: list[float] | None = None, mode: str = "max") -> None:
        super().__init__()
        self.values = [float(v) for v in (values or [0.0])]
        self.metric_mode = mode
        self.step = 0
        self.register_attrs("step")

    def run(self) -> bool:
        self.step += 1
        return self.step < len(self.values)

    def metric(self) -> float:
        return self.values[self.step - 1]


class XDraw(Component):
    """Draws numbers from Python, NumPy and torch when built and records them."""

    def __init__(self, tag: float = 0.0) -> None:
        super().__init__()
        import random

        import numpy as np

        self.tag = tag
        self.drawn = [random.random(), float(np.random.rand()), float(torch.rand(1))]
        self.register_attrs("drawn")

    def run(self) -> bool:
        return False


def recording_scheduler(log: str) -> object:
    """A Ray Tune FIFO scheduler that appends every result it is shown to ``log`` (name, score)."""
    from ray.tune.schedulers import FIFOScheduler

    class RecordingScheduler(FIFOScheduler):
        def on_trial_result(self, tune_controller: object, trial: object, result: dict) -> str:
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(f"{result.get('flambe_name')} {result.get('flambe_score')}\n")
            return super().on_trial_result(tune_controller, trial, result)

        def on_trial_complete(self, tune_controller: object, trial: object, result: dict) -> None:
            if result:  # the last result of a finished trial comes here
                with open(log, "a", encoding="utf-8") as handle:
                    handle.write(f"{result.get('flambe_name')} {result.get('flambe_score')}\n")
            super().on_trial_complete(tune_controller, trial, result)

    return RecordingScheduler()
