"""Small components for experiment tests (importable by Ray workers)."""

from __future__ import annotations

import os
from typing import Any

import torch

from flambe.compile import Component


class XDataset(Component):
    """A fixed list of numbers; no work, no metric."""

    def __init__(self, values: list[float] | None = None, offset: float = 0.0) -> None:
        super().__init__()
        self.values = [v + offset for v in (values or [1.0, 2.0, 3.0])]
        self.size = len(self.values)


class XModel(Component, torch.nn.Module):
    """A linear layer whose width is a hyperparameter."""

    def __init__(self, width: int = 2, scale: float = 1.0) -> None:
        super().__init__()
        self.width, self.scale = width, scale
        self.linear = torch.nn.Linear(width, 1)


class XTrainer(Component):
    """Counts ``steps`` run() calls; the metric grows with the lr and the model width."""

    def __init__(
        self,
        model: Any,
        dataset: Any = None,
        lr: float = 0.1,
        steps: int = 3,
        fail_at: int = 0,
        lower_is_better: bool = False,
    ) -> None:
        super().__init__()
        self.model, self.dataset, self.lr, self.steps = model, dataset, lr, steps
        self.fail_at = fail_at
        # the metric grows with lr x width; with lower_is_better the engine should prefer small
        self.metric_mode = "min" if lower_is_better else "max"
        self.done_steps = 0
        self.register_attrs("done_steps")

    def run(self) -> bool:
        self.done_steps += 1
        if self.fail_at and self.done_steps == self.fail_at:
            raise RuntimeError(f"planned failure at step {self.done_steps}")
        with torch.no_grad():
            self.model.linear.weight.add_(self.lr)
        return self.done_steps < self.steps

    def metric(self) -> float:
        return float(self.lr * self.model.width * self.done_steps)


class XEvaluator(Component):
    """Reads the trained weights of its model (one step)."""

    def __init__(self, model: Any, out: str | None = None) -> None:
        super().__init__()
        self.model, self.out = model, out
        self.result: float | None = None

    def run(self) -> bool:
        self.result = float(self.model.linear.weight.sum())
        if self.out:
            with open(self.out, "a") as handle:
                handle.write(f"{self.model.width} {self.result:.4f}\n")
        return False

    def metric(self) -> float | None:
        return self.result


def _append(path: str | None, line: str) -> None:
    if path:
        with open(path, "a") as handle:
            handle.write(line + "\n")


class XCounter(Component):
    """Counts ``run()`` calls into a file, for resume and failure tests.

    Each call appends ``"<label> <step>"`` to ``log``. The metric is
    ``value * step`` (or ``value`` alone with ``constant``), reported as
    lower-is-better when ``mode`` is ``"min"``. ``fail_at`` raises at that
    step every time; ``fail_once`` (a marker file; ``{label}`` in it is replaced
    by the label) raises at ``fail_at`` only while the marker does not exist,
    creating it. ``sleep`` waits in each call.
    """

    def __init__(
        self,
        label: str = "c",
        value: float = 1.0,
        steps: int = 3,
        log: str | None = None,
        sleep: float = 0.0,
        mode: str | None = None,
        fail_at: int = 0,
        fail_once: str | None = None,
        upstream: Any = None,
        constant: bool = False,
        no_metric: bool = False,
    ) -> None:
        super().__init__()
        self.label, self.value, self.steps, self.log = label, value, steps, log
        self.sleep, self.fail_at, self.fail_once = sleep, fail_at, fail_once
        self.upstream, self.constant, self.no_metric = upstream, constant, no_metric
        if mode is not None:
            self.metric_mode = mode
        self.step = 0
        self.register_attrs("step")

    def run(self) -> bool:
        import time

        if self.sleep:
            time.sleep(self.sleep)
        if self.fail_at and self.step + 1 == self.fail_at:
            if self.fail_once is None:
                raise RuntimeError(f"{self.label}: planned failure at step {self.fail_at}")
            marker = self.fail_once.replace("{label}", str(self.label))
            if not os.path.exists(marker):
                open(marker, "w").close()
                raise RuntimeError(f"{self.label}: failing once at step {self.fail_at}")
        self.step += 1
        _append(self.log, f"{self.label} {self.step}")
        return self.step < self.steps

    def metric(self) -> float | None:
        if self.no_metric:
            return None
        return float(self.value if self.constant else self.value * self.step)


class XSource(Component):
    """An upstream stage with a value downstream stages read through links."""

    def __init__(self, value: Any = 0, log: str | None = None) -> None:
        super().__init__()
        self.value, self.log = value, log
        self.seen: Any = None
        self.register_attrs("seen")

    def run(self) -> bool:
        self.seen = self.value
        _append(self.log, f"source {self.value}")
        return False


class XPair(Component):
    """A component with two children (for !g over components)."""

    def __init__(self, a: Any = 0, b: Any = 0) -> None:
        super().__init__()
        self.a, self.b = a, b


class XReader(Component):
    """Records what it received from upstream stages into ``log`` (one run)."""

    def __init__(
        self, got: Any = None, items: Any = None, log: str | None = None, value: float = 0.0
    ) -> None:
        super().__init__()
        self.got, self.items, self.log, self.value = got, items, log, value

    def run(self) -> bool:
        _append(self.log, repr(_plain(self.got)) + " | " + repr(_plain(self.items)))
        return False

    def metric(self) -> float:
        return float(self.value)


def _plain(value: Any) -> Any:
    if isinstance(value, XPair):
        return {"a": _plain(value.a), "b": _plain(value.b)}
    if isinstance(value, XSource):
        return {"source": value.value, "seen": value.seen}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


class XLogged(Component):
    """Logs ``value`` = its step to TensorBoard at each ``run()``; the metric is the step."""

    def __init__(self, steps: int = 3) -> None:
        super().__init__()
        self.steps = steps
        self.step = 0
        self.register_attrs("step")

    def run(self) -> bool:
        from flambe.logging import log

        self.step += 1
        log("value", float(self.step), self.step)
        return self.step < self.steps

    def metric(self) -> float:
        return float(self.step)


class XCrash(Component):
    """Steps ``steps`` times, writing its pid to ``pid_file``; the variant ``crash`` dies.

    With ``crash`` equal to its ``label``, the process running it kills
    itself with SIGSEGV at the second step (as a crash in native code would),
    so no Python error is raised or reported by the variant itself. ``sleep``
    waits in each step. The metric is ``value * step``, plus a number drawn
    from torch's generator with ``noisy`` (so it depends on the variant's seed).
    """

    def __init__(
        self,
        label: str = "c",
        value: float = 1.0,
        steps: int = 2,
        crash: str | None = None,
        pid_file: str | None = None,
        sleep: float = 0.0,
        noisy: bool = False,
    ) -> None:
        super().__init__()
        self.label, self.value, self.steps, self.crash = label, value, steps, crash
        self.pid_file, self.sleep, self.noisy = pid_file, sleep, noisy
        self.step = 0
        self.register_attrs("step")

    def run(self) -> bool:
        import signal
        import time

        self.step += 1
        _append(self.pid_file, str(os.getpid()))
        if self.crash == self.label and self.step == 2:
            os.kill(os.getpid(), signal.SIGSEGV)
        time.sleep(self.sleep)
        return self.step < self.steps

    def metric(self) -> float:
        noise = float(torch.rand(1)) if self.noisy else 0.0
        return self.value * self.step + noise


class XEnv(Component):
    """Appends ``"<label> <value of the environment variable name>"`` to ``log``, once."""

    def __init__(self, name: str, log: str, label: str = "e") -> None:
        super().__init__()
        self.name, self.log, self.label = name, log, label

    def run(self) -> bool:
        _append(self.log, f"{self.label} {os.environ.get(self.name)}")
        return False

    def metric(self) -> float | None:
        return 1.0
