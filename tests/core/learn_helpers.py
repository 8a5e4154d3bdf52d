"""Small, dependency-free pieces for the training tests: data, sampler, models, metrics."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from flambe.compile import Component


def blobs(
    n: int, n_features: int = 4, seed: int = 0, shift: float = 2.0
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Two Gaussian blobs (a learnable binary problem): examples (features, label)."""
    gen = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (n,), generator=gen)
    x = torch.randn(n, n_features, generator=gen) + shift * (labels.float()[:, None] * 2 - 1)
    return [(x[i], labels[i]) for i in range(n)]


class LSplits(Component):
    """A dataset of in-memory splits."""

    def __init__(self, train: Sequence, val: Sequence = (), test: Sequence = ()) -> None:
        super().__init__()
        self._splits = {"train": list(train), "val": list(val), "test": list(test)}

    @property
    def train(self) -> list:
        return self._splits["train"]

    @property
    def val(self) -> list:
        return self._splits["val"]

    @property
    def test(self) -> list:
        return self._splits["test"]


class LSampler(Component):
    """Sequential batches of stacked tensors; counts the passes it was asked for."""

    def __init__(self, batch_size: int = 4, drop_last: bool = False) -> None:
        super().__init__()
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.calls: list[int] = []

    def length(self, data: Sequence) -> int:
        n = len(data) / self.batch_size
        return math.floor(n) if self.drop_last else math.ceil(n)

    def sample(self, data: Sequence, n_epochs: int = 1):
        self.calls.append(n_epochs)
        epoch = 0
        while n_epochs == -1 or epoch < n_epochs:
            epoch += 1
            for b in range(self.length(data)):
                rows = data[b * self.batch_size : (b + 1) * self.batch_size]
                yield tuple(torch.stack([row[c] for row in rows]) for c in range(len(rows[0])))


class LLinear(Component, torch.nn.Module):
    """Linear classifier returning (log-probabilities, target); counts training forwards."""

    def __init__(self, n_features: int = 4, n_classes: int = 2, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.linear = torch.nn.Linear(n_features, n_classes)
        self.train_forwards = 0

    @property
    def trainable_params(self):
        return (p for p in self.parameters() if p.requires_grad)

    def forward(self, x: torch.Tensor, y: torch.Tensor):
        if self.training:
            self.train_forwards += 1
        return torch.log_softmax(self.linear(x), dim=-1), y


class LAccuracy(Component):
    """Accuracy with incremental aggregation."""

    def compute(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return (pred.argmax(-1) == target).float().mean()

    __call__ = compute

    def aggregate(self, state: dict[str, Any], pred: torch.Tensor, target: torch.Tensor) -> dict:
        state["correct"] = state.get("correct", 0) + int((pred.argmax(-1) == target).sum())
        state["count"] = state.get("count", 0) + len(target)
        return state

    def finalize(self, state: dict[str, Any]) -> float:
        return state["correct"] / state["count"] if state else float("nan")

    def __str__(self) -> str:
        return "LAccuracy"


class LSequenceMetric(Component):
    """Returns a given sequence of values, one per validation pass (to drive best tracking)."""

    def __init__(self, values: Sequence[float]) -> None:
        super().__init__()
        self.values = list(values)
        self.calls = 0

    def aggregate(self, state: dict, pred: Any, target: Any) -> dict:
        state["seen"] = True
        return state

    def finalize(self, state: dict) -> float:
        value = self.values[min(self.calls, len(self.values) - 1)]
        self.calls += 1
        return value

    def __str__(self) -> str:
        return "Seq"


class CountingSGD(torch.optim.SGD):
    """SGD that records, at every step, the gradients it applies."""

    def __init__(self, params: Any, lr: float = 0.1) -> None:
        super().__init__(params, lr=lr)
        self.steps = 0
        self.grads: list[list[torch.Tensor]] = []

    def step(self, closure: Any = None) -> Any:
        self.steps += 1
        self.grads.append(
            [
                p.grad.detach().clone()
                for g in self.param_groups
                for p in g["params"]
                if p.grad is not None
            ]
        )
        return super().step(closure)


def make_trainer(
    n_train: int = 40,
    n_val: int = 16,
    batch_size: int = 4,
    model: Any = None,
    optimizer: Any = None,
    metric_fn: Any = None,
    drop_last: bool = False,
    trainer_cls: Any = None,
    **kwargs: Any,
):
    """A Trainer over blobs with the stand-ins above (keyword arguments go to the Trainer)."""
    from flambe.learn import Trainer

    data = LSplits(blobs(n_train, seed=1), blobs(n_val, seed=2), blobs(n_val, seed=3))
    model = model if model is not None else LLinear()
    optimizer = optimizer if optimizer is not None else CountingSGD(model.parameters(), lr=0.1)
    return (trainer_cls or Trainer)(
        dataset=data,
        train_sampler=LSampler(batch_size, drop_last=drop_last),
        val_sampler=LSampler(batch_size),
        model=model,
        loss_fn=torch.nn.NLLLoss(),
        metric_fn=metric_fn if metric_fn is not None else LAccuracy(),
        optimizer=optimizer,
        **kwargs,
    )
