"""Saving an object whose config links through its own keywords to other stages."""

from __future__ import annotations

import torch

import flambe
from flambe.compile import Component, yaml


class SlHolder(Component):
    """Holds a model linked from elsewhere and an optimizer over its parameters."""

    def __init__(self, model, optimizer, size=None):
        super().__init__()
        self.model, self.optimizer, self.size = model, optimizer, size


def test_link_through_an_own_keyword_stays_relative(tmp_path):
    config = yaml.load("""
model: !torch.Linear {in_features: 2, out_features: 1}
train: !SlHolder
  model: !@ model
  optimizer: !torch.Adam {params: !call model.parameters, lr: 0.1}
""")
    config["model"]()
    holder = config["train"]()
    text, stash = holder._config_for_save()
    assert "params: !call model.parameters" in text  # relative to the saved object
    assert "model: !torch.Linear" in text  # the outside object is written in full
    assert stash == {}
    flambe.save(holder, str(tmp_path / "holder"))
    loaded = flambe.load(str(tmp_path / "holder"))
    assert torch.equal(loaded.model.weight, holder.model.weight)
    assert loaded.optimizer.param_groups[0]["params"][0] is loaded.model.weight


def test_link_to_a_later_keyword_of_the_saved_object_is_inlined(tmp_path):
    config = yaml.load("""
net: !torch.Linear {in_features: 3, out_features: 1}
train: !SlHolder
  size: !@ net.in_features
  model: !@ net
  optimizer: !torch.Adam {params: !call model.parameters}
""")
    config["net"]()
    holder = config["train"]()
    text, _ = holder._config_for_save()
    assert "size: 3" in text  # 'model' comes after 'size': a link would point forward
    flambe.save(holder, str(tmp_path / "holder"))
    assert flambe.load(str(tmp_path / "holder")).size == 3


def test_wrapped_lr_scheduler_state_leaves_out_its_config(tmp_path):
    """torch's schedulers build state_dict from __dict__: the config must not leak into it."""
    config = yaml.load("""
model: !torch.Linear {in_features: 2, out_features: 1}
train: !SlHolder
  model: !@ model
  optimizer: !torch.Adam {params: !call model.parameters, lr: 0.1}
  size: !torch.ExponentialLR {optimizer: !@ optimizer, gamma: 0.5}
""")
    config["model"]()
    holder = config["train"]()
    holder.optimizer.step()
    holder.size.step()
    state = holder.size.state_dict()
    assert "_saved_kwargs" not in state and "_schema" not in state
    assert state["last_epoch"] == 1
    flambe.save(holder, str(tmp_path / "holder"))  # used to fail: the config held a closure
    loaded = flambe.load(str(tmp_path / "holder"))
    loaded.size.load_state_dict(state)
    assert loaded.size.get_last_lr() == [0.05]
