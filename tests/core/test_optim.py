"""Learning-rate schedulers: values, YAML, state, use in a Trainer."""

from __future__ import annotations

import pytest
import torch

from flambe.compile import yaml
from flambe.errors import ArgumentError
from flambe.logging import TrialLogging
from flambe.logging.events import read_scalars
from flambe.optim import ConstantWarmup, LinearWarmupDecay, NoamScheduler
from tests.core.learn_helpers import LLinear, make_trainer


def lrs(scheduler, optimizer, n):
    values = []
    for _ in range(n):
        values.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return values


def sgd(lr=1.0):
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=lr)


def test_linear_warmup_then_decay():
    optimizer = sgd(2.0)
    assert lrs(LinearWarmupDecay(optimizer, 2, 6), optimizer, 8) == pytest.approx(
        [0.0, 1.0, 2.0, 1.5, 1.0, 0.5, 0.0, 0.0]
    )


def test_constant_after_warmup():
    optimizer = sgd(1.0)
    assert lrs(ConstantWarmup(optimizer, 4), optimizer, 6) == pytest.approx(
        [0, 0.25, 0.5, 0.75, 1, 1]
    )


def test_noam():
    optimizer = sgd(1.0)
    values = lrs(NoamScheduler(optimizer, warmup=4, d_model=16), optimizer, 8)
    expected = [16**-0.5 * min(s**-0.5, s * 4**-1.5) for s in range(1, 9)]
    assert values == pytest.approx(expected)
    assert max(values) == values[3]


def test_bad_arguments():
    with pytest.raises(ArgumentError, match="n_steps_total"):
        LinearWarmupDecay(sgd(), 10, 5)
    with pytest.raises(ArgumentError, match="warmup"):
        NoamScheduler(sgd(), 0, 8)


def test_state_resumes_the_schedule():
    optimizer = sgd()
    scheduler = LinearWarmupDecay(optimizer, 3, 10)
    lrs(scheduler, optimizer, 4)
    state = scheduler.state_dict()
    assert "optimizer" not in state
    other_optimizer = sgd()
    other = LinearWarmupDecay(other_optimizer, 3, 10)
    other.load_state_dict(state)
    other_optimizer.load_state_dict(optimizer.state_dict())  # the lr lives in the optimizer
    assert lrs(other, other_optimizer, 3) == lrs(scheduler, optimizer, 3)


ALIASES = [
    # (tag, class it must build, arguments, learning rates of its first 5 steps with lr 1.0)
    (
        "LinearWarmupDecay",
        LinearWarmupDecay,
        "n_steps_warmup: 2\nn_steps_total: 4\n",
        [0.0, 0.5, 1.0, 0.5, 0.0],
    ),
    (
        "WarmupLinearScheduler",
        LinearWarmupDecay,
        "n_steps_warmup: 2\nn_steps_total: 4\n",
        [0.0, 0.5, 1.0, 0.5, 0.0],
    ),
    (
        "WarmupLinearSchedule",
        LinearWarmupDecay,
        "n_steps_warmup: 2\nn_steps_total: 4\n",
        [0.0, 0.5, 1.0, 0.5, 0.0],
    ),
    ("ConstantWarmup", ConstantWarmup, "n_steps_warmup: 2\n", [0.0, 0.5, 1.0, 1.0, 1.0]),
    ("WarmupConstantScheduler", ConstantWarmup, "n_steps_warmup: 2\n", [0.0, 0.5, 1.0, 1.0, 1.0]),
    ("WarmupConstantSchedule", ConstantWarmup, "n_steps_warmup: 2\n", [0.0, 0.5, 1.0, 1.0, 1.0]),
    (
        "NoamScheduler",
        NoamScheduler,
        "warmup: 2\nd_model: 4\n",
        [4**-0.5 * min(s**-0.5, s * 2**-1.5) for s in range(1, 6)],
    ),
]


@pytest.mark.parametrize(
    "tag, cls, arguments, expected", ALIASES, ids=[entry[0] for entry in ALIASES]
)
def test_from_yaml_with_aliases(tag, cls, arguments, expected):
    # each tag builds exactly its class (not a subclass or a sibling) with its schedule
    optimizer = sgd()
    scheduler = yaml.load(f"!{tag}\n{arguments}")(optimizer=optimizer)
    assert type(scheduler) is cls
    assert lrs(scheduler, optimizer, 5) == pytest.approx(expected)


def test_iter_scheduler_in_a_trainer(tmp_path):
    model = LLinear()
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    trainer = make_trainer(
        model=model,
        optimizer=optimizer,
        iter_scheduler=LinearWarmupDecay(optimizer, 2, 4),
        max_steps=1,
        iter_per_step=5,
        log_interval=1,
    )
    with TrialLogging(str(tmp_path)):
        trainer.run()
    logged = [v for _, v in read_scalars(str(tmp_path))["Training/LR"]]
    assert logged == pytest.approx([0.0, 0.5, 1.0, 0.5, 0.0])
