"""Evaluator: a metric over one split, in one step, repeatable."""

from __future__ import annotations

import pytest
import torch

from flambe.learn import Evaluator, UnknownSplitError
from flambe.logging import TrialLogging
from flambe.logging.events import read_scalars
from tests.core.learn_helpers import LAccuracy, LLinear, LSampler, LSplits, blobs


def accuracy_over(model, rows):
    x = torch.stack([r[0] for r in rows])
    y = torch.stack([r[1] for r in rows])
    with torch.no_grad():
        pred, _ = model.eval()(x, y)
    return float((pred.argmax(-1) == y).float().mean())


def test_default_sampler_is_sequential_batches_of_16(tmp_path):
    data = LSplits(blobs(8), blobs(8, seed=4), blobs(37, seed=5))
    model = LLinear()
    evaluator = Evaluator(dataset=data, model=model, metric_fn=LAccuracy())
    assert evaluator.eval_sampler.batch_size == 16
    assert evaluator.eval_sampler.shuffle is False
    assert evaluator.metric() is None
    with TrialLogging(str(tmp_path)):
        assert evaluator.run() is False
    expected = accuracy_over(model, data.test)
    assert evaluator.eval_metric == pytest.approx(expected)
    assert evaluator.metric() == pytest.approx(expected)
    assert read_scalars(str(tmp_path))["Eval/LAccuracy"] == [(0, pytest.approx(expected))]


def test_eval_data_val_and_running_twice():
    """Regression: the original's iterator was exhausted after the first run."""
    data = LSplits(blobs(8), blobs(20, seed=4), blobs(20, seed=5))
    model = LLinear(seed=3)
    evaluator = Evaluator(
        dataset=data, model=model, metric_fn=LAccuracy(), eval_sampler=LSampler(3), eval_data="val"
    )
    evaluator.run()
    first = evaluator.eval_metric
    evaluator.run()
    assert evaluator.eval_metric == first == pytest.approx(accuracy_over(model, data.val))


def test_unknown_split():
    with pytest.raises(UnknownSplitError, match="'dev'") as info:
        Evaluator(
            dataset=LSplits(blobs(4)), model=LLinear(), metric_fn=LAccuracy(), eval_data="dev"
        )
    assert isinstance(info.value, AttributeError)


def test_lower_is_better_is_signed():
    data = LSplits(blobs(8), blobs(8), blobs(8))
    evaluator = Evaluator(
        dataset=data,
        model=LLinear(),
        metric_fn=torch.nn.NLLLoss(),
        eval_sampler=LSampler(4),
        lower_is_better=True,
    )
    evaluator.run()
    assert evaluator.eval_metric > 0
    assert evaluator.metric() == -evaluator.eval_metric


def test_state_holds_the_metric():
    data = LSplits(blobs(8), blobs(8), blobs(8))
    evaluator = Evaluator(
        dataset=data, model=LLinear(), metric_fn=LAccuracy(), eval_sampler=LSampler(4)
    )
    evaluator.run()
    fresh = Evaluator(
        dataset=data, model=LLinear(), metric_fn=LAccuracy(), eval_sampler=LSampler(4)
    )
    fresh.load_state(evaluator.get_state())
    assert fresh.eval_metric == evaluator.eval_metric
