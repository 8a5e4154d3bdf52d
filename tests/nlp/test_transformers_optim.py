"""AdamW and the schedules of the original pytorch_transformers integration, on PyTorch's."""

from __future__ import annotations

import pytest
import torch

from flambe.compile import yaml
from flambe.errors import ArgumentError
from flambe.nlp.transformers import (
    AdamW,
    ConstantLRSchedule,
    WarmupConstantSchedule,
    WarmupLinearSchedule,
)
from flambe.optim import LinearWarmupDecay


def test_adamw_from_yaml_optimises_with_the_original_defaults():
    exporter = yaml.load("""
!Exporter
model: !torch.Linear {in_features: 3, out_features: 1}
optimizer: !AdamW
  params: !call model.parameters
  lr: 0.1
""")()
    optimizer, model = exporter.optimizer, exporter.model
    assert isinstance(optimizer, AdamW) and isinstance(optimizer, torch.optim.AdamW)
    group = optimizer.param_groups[0]
    assert group["lr"] == 0.1 and group["eps"] == 1e-6 and group["weight_decay"] == 0.0
    x, y = torch.randn(32, 3), torch.randn(32, 1)
    losses = []
    for _ in range(20):
        optimizer.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach().item())
    assert losses[-1] < losses[0]
    assert set(optimizer.state_dict()) == {"state", "param_groups"}


def test_adamw_refuses_uncorrected_bias():
    with pytest.raises(ArgumentError, match="correct_bias"):
        AdamW(torch.nn.Linear(2, 2).parameters(), correct_bias=False)


def test_adamw_takes_two_betas():
    optimizer = AdamW(torch.nn.Linear(2, 2).parameters(), betas=[0.8, 0.9])
    assert optimizer.param_groups[0]["betas"] == (0.8, 0.9)
    with pytest.raises(ArgumentError, match=r"betas must be two values .* not \[0.9, 0.99, 0.5\]"):
        AdamW(torch.nn.Linear(2, 2).parameters(), betas=[0.9, 0.99, 0.5])


def _rates(scheduler, optimizer, steps):
    rates = []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def test_schedules_under_their_original_names():
    def opt():
        return torch.optim.SGD(torch.nn.Linear(2, 2).parameters(), lr=1.0)

    o = opt()
    assert _rates(ConstantLRSchedule(o), o, 4) == [1.0, 1.0, 1.0, 1.0]
    o = opt()
    assert _rates(WarmupConstantSchedule(o, warmup_steps=2), o, 4) == [0.0, 0.5, 1.0, 1.0]
    o = opt()
    linear = WarmupLinearSchedule(o, warmup_steps=2, t_total=4)
    assert isinstance(linear, LinearWarmupDecay)
    assert _rates(linear, o, 6) == [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]


def test_yaml_schedule_tags():
    exporter = yaml.load("""
!Exporter
model: !torch.Linear {in_features: 2, out_features: 1}
optimizer: !AdamW {params: !call model.parameters, lr: 0.5}
constant: !ConstantLRSchedule {optimizer: !@ optimizer}
warmup: !WarmupLinearSchedule {optimizer: !@ optimizer, n_steps_warmup: 1, n_steps_total: 3}
""")()
    assert isinstance(exporter.constant, ConstantLRSchedule)
    assert isinstance(exporter.warmup, LinearWarmupDecay)
    assert exporter.constant.get_lr() == [0.5]
