"""Where ``flambe.load`` puts tensors (``map_location``), and the Evaluator's eval mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

import flambe
from flambe.compile import Component, yaml
from flambe.compile.serialization import load_state_from_file
from flambe.learn import Evaluator
from tests.core.learn_helpers import LAccuracy, LSplits, blobs


class PlacedNet(Component, torch.nn.Module):
    """A parameter and a buffer, so both kinds of tensors are placed."""

    def __init__(self, n: int = 3) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(n, 2)
        self.register_buffer("counts", torch.arange(4.0))


@pytest.fixture(
    params=[{}, {"compress": True}, {"pickle_only": True}], ids=["folder", "archive", "pickle"]
)
def saved(request: Any, tmp_path: Path) -> str:
    net = yaml.load("!PlacedNet {n: 3}")()
    return flambe.save(net, str(tmp_path / "net"), **request.param)


@pytest.mark.parametrize("fast_init", [None, True, False])
def test_load_with_map_location_meta_puts_every_tensor_there(saved: str, fast_init: Any) -> None:
    # on a CPU-only machine "meta" is the other device there is: nothing may end on the CPU
    net = flambe.load(saved, map_location="meta", fast_init=fast_init)
    assert type(net) is PlacedNet
    assert net.linear.weight.is_meta and net.linear.bias.is_meta and net.counts.is_meta
    assert net.linear.weight.shape == (2, 3)
    state = load_state_from_file(saved, map_location=torch.device("meta"))
    assert all(value.is_meta for value in state.values() if isinstance(value, torch.Tensor))


def test_load_with_a_map_location_dict_and_callable(saved: str) -> None:
    net = flambe.load(saved, map_location={"cpu": "meta"})
    assert net.linear.weight.is_meta and net.counts.is_meta
    seen: list[str] = []

    def keep(storage: Any, location: str) -> Any:
        seen.append(location)
        return storage

    reference = flambe.load(saved)
    net = flambe.load(saved, map_location=keep)
    assert seen and set(seen) == {"cpu"}  # the callable decided where every tensor went
    assert net.linear.weight.device.type == "cpu" and not net.linear.weight.is_meta
    assert torch.equal(net.linear.weight, reference.linear.weight)
    assert torch.equal(net.counts, torch.arange(4.0))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_load_with_map_location_cuda(saved: str) -> None:
    reference = flambe.load(saved)
    net = flambe.load(saved, map_location="cuda:0")
    assert net.linear.weight.is_cuda and net.counts.is_cuda
    assert torch.equal(net.linear.weight.cpu(), reference.linear.weight)


# -- the Evaluator evaluates in eval mode --------------------------------------------------------


class DropoutClassifier(Component, torch.nn.Module):
    """A linear classifier of the blobs followed by dropout with p=1.

    In train mode the dropout zeroes every logit, so every prediction is
    class 0; in eval mode dropout is the identity and the classifier is
    nearly always right. Its output depends on the mode, which the models
    of the other tests' do not.
    """

    def __init__(self, n_features: int = 4) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(n_features, 2)
        with torch.no_grad():
            self.linear.weight.copy_(torch.tensor([[-1.0] * n_features, [1.0] * n_features]))
            self.linear.bias.zero_()
        self.dropout = torch.nn.Dropout(p=1.0)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> Any:
        return torch.log_softmax(self.dropout(self.linear(x)), -1), y


def test_the_evaluator_evaluates_in_eval_mode() -> None:
    rows = blobs(64, seed=5)
    labels = torch.stack([r[1] for r in rows])
    model = DropoutClassifier()
    model.train()  # as a Trainer leaves it
    evaluator = Evaluator(
        dataset=LSplits(blobs(8), test=rows), model=model, metric_fn=LAccuracy(), device="cpu"
    )
    evaluator.run()
    x = torch.stack([r[0] for r in rows])
    with torch.no_grad():
        in_eval = float((model.eval()(x, labels)[0].argmax(-1) == labels).float().mean())
        in_train = float((model.train()(x, labels)[0].argmax(-1) == labels).float().mean())
    assert in_eval > 0.9 and in_train == pytest.approx(float((labels == 0).float().mean()))
    assert evaluator.eval_metric == pytest.approx(in_eval)
    assert evaluator.metric() == pytest.approx(in_eval)
