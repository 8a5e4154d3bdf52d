"""get_state / load_state of component trees, registered attributes, hooks and versions."""

from __future__ import annotations

import inspect
import logging
import warnings

import pytest
import torch

from flambe.compile import Component, yaml
from flambe.compile.state import (
    LoadResult,
    State,
    StateVersionWarning,
    check_version,
    distribution_of,
    parse_version,
)
from flambe.errors import LoadError, VersionMismatchError


class StBasic(Component):
    pass


class StLeaf(Component):
    def __init__(self, x: int = 1) -> None:
        super().__init__()
        self.x = x
        self.register_attrs("x")


class StHolder(Component):
    def __init__(self, leaf: Component) -> None:
        super().__init__()
        self.leaf = leaf


class StNet(Component, torch.nn.Module):
    def __init__(self, leaf: Component, n: int = 3) -> None:
        super().__init__()
        self.leaf = leaf
        self.linear = torch.nn.Linear(n, 2)


class StRoot(Component):
    def __init__(self, model: Component, lr: float = 0.1) -> None:
        super().__init__()
        self.model = model
        self.optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        self.scheduler = torch.optim.lr_scheduler.StepLR(self.optimizer, step_size=1)


class StCustom(Component):
    def __init__(self, size: int = 2) -> None:
        super().__init__()
        self.values = list(range(size))

    def _state(self, state, prefix, local_metadata):
        state[prefix + "total"] = sum(self.values)
        state[prefix + "values"] = torch.tensor(self.values)
        return state

    def _load_state(
        self, state, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
    ):
        self.values = state[prefix + "values"].tolist()
        if sum(self.values) != state[prefix + "total"]:
            error_msgs.append("total does not match values")


class StVersioned(Component, torch.nn.Module):
    _flambe_version = "1.2.3"

    def __init__(self) -> None:
        super().__init__()
        self.out = torch.nn.Linear(2, 2)


class StTorchOnly(torch.nn.Module):
    def __init__(self, child: torch.nn.Module) -> None:
        super().__init__()
        self.child = child


class StItem(Component, torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.torch_only = StTorchOnly(StNet(StLeaf(7)))


class StPair(Component):
    def __init__(self, first: Component, second: Component) -> None:
        super().__init__()
        self.first = first
        self.second = second


def build(text: str):
    return yaml.load(text)()


NESTED = """
!StRoot
model: !StNet
  leaf: !StLeaf {x: 5}
"""


# -- get_state -------------------------------------------------------------------------


def test_leaf_component_state_has_metadata_only():  # C28
    state = build("!StBasic {}").get_state()
    assert isinstance(state, State)
    assert list(state) == []
    meta = state._metadata[""]
    assert meta["_flambe_version"] == "0.0.0"
    assert meta["_flambe_class"] == "StBasic"
    assert meta["_flambe_module"] == f"{__name__}:StBasic"
    assert meta["_flambe_source"] == inspect.getsource(StBasic)
    assert meta["_flambe_config"] == "!StBasic {}\n"
    assert state._metadata["_flambe_directories"] == {""}


def test_nested_plain_components_have_one_directory_each():  # C29
    state = build("!StHolder\nleaf: !StBasic {}\n").get_state()
    assert list(state) == []
    assert state._metadata["_flambe_directories"] == {"", "leaf"}
    assert state._metadata["leaf"]["_flambe_class"] == "StBasic"
    assert state._metadata[""]["_flambe_class"] == "StHolder"


def test_registered_attrs_and_torch_tensors_through_the_tree():  # C30
    root = build(NESTED)
    state = root.get_state()
    assert set(state) == {"model.leaf.x", "model.linear.weight", "model.linear.bias"}
    assert state["model.leaf.x"] == 5
    assert torch.equal(state["model.linear.weight"], root.model.linear.weight)
    assert not state["model.linear.weight"].requires_grad  # detached, as torch does
    assert state._metadata["_flambe_directories"] == {"", "model", "model.leaf"}
    # torch's own per-module metadata is kept next to flambe's
    assert state._metadata["model.linear"]["version"] == 1
    assert state._metadata["model"]["_flambe_class"] == "StNet"


def test_keep_vars_keeps_parameters():
    state = build(NESTED).get_state(keep_vars=True)
    assert isinstance(state["model.linear.weight"], torch.nn.Parameter)


def test_get_state_with_prefix_into_destination():
    destination = State()
    build("!StLeaf {x: 3}").get_state(destination, prefix="outer.")
    assert dict(destination) == {"outer.x": 3}
    assert "outer" in destination._metadata["_flambe_directories"]
    assert destination._metadata["outer"]["_flambe_class"] == "StLeaf"


def test_register_missing_attribute_raises():  # C31
    leaf = StLeaf()
    with pytest.raises(AttributeError, match="nope"):
        leaf.register_attrs("nope")


def test_register_attrs_is_a_union():
    leaf = StLeaf(2)
    leaf.y = "text"
    leaf.register_attrs("y", "x")
    assert list(leaf.get_state()) == ["x", "y"]


def test_plain_constructor_has_no_config():  # C16
    state = StLeaf(4).get_state()
    assert "_flambe_config" not in state._metadata[""]
    assert state["x"] == 4


def test_module_state_dict_stays_pure_torch():
    """Replaces SPEC C33: state_dict() has tensors only and loads strictly."""
    root = build(NESTED)
    model = root.model
    sd = model.state_dict()
    assert list(sd) == ["linear.weight", "linear.bias"]
    assert all(isinstance(v, torch.Tensor) for v in sd.values())
    other = StNet(StLeaf(0))
    result = other.load_state_dict(sd, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert torch.equal(other.linear.weight, model.linear.weight)
    # while get_state adds the registered attribute on top
    assert "leaf.x" in model.get_state()


def test_components_under_torch_only_modules_are_found():
    state = build("!StItem {}").get_state()
    assert state._metadata["_flambe_directories"] == {
        "",
        "torch_only.child",
        "torch_only.child.leaf",
    }
    assert state["torch_only.child.leaf.x"] == 7
    assert "torch_only.child.linear.weight" in state
    # each tensor appears once
    assert sum(k.endswith("linear.weight") for k in state) == 1


def test_module_held_by_plain_component_contributes_its_state_dict():
    root = build(NESTED)
    root.extra = torch.nn.Linear(1, 1)
    state = root.get_state()
    assert {"extra.weight", "extra.bias"} <= set(state)
    assert "extra" not in state._metadata["_flambe_directories"]


def test_shared_objects_and_cycles_are_visited_once():
    pair = build("!StPair\nfirst: &l !StLeaf {x: 2}\nsecond: *l\n")
    assert pair.first is pair.second
    pair.first.back = pair  # a cycle
    state = pair.get_state()
    assert dict(state) == {"first.x": 2}
    assert state._metadata["_flambe_directories"] == {"", "first"}


def test_plugins_of_the_classes_involved_are_recorded():
    state = build("!StHolder\nleaf: !torch.Linear {in_features: 2, out_features: 2}\n").get_state()
    assert state._metadata[""]["_flambe_plugins"]["torch"] == torch.__version__
    assert distribution_of("torch.nn.modules.linear")[0] == "torch"
    assert distribution_of("flambe.compile.state")[0] == "flambe-core"
    assert distribution_of("__main__") is None


def test_the_distribution_lookup_matches_packages_distributions():
    # read from top_level.txt / RECORD without parsing every distribution's metadata: the same
    # answer as the standard library's full map, for every installed top-level name
    from importlib import metadata

    from flambe.compile.state import _distributions_providing

    expected = metadata.packages_distributions()
    assert "torch" in expected and "yaml" in expected
    for top, names in expected.items():
        assert _distributions_providing(top) == names, top
    assert _distributions_providing("no_such_module_anywhere") == []


def test_frozen_requirements_list_every_distribution_once():
    from importlib import metadata

    from flambe.compile.save_format import frozen_requirements

    expected = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        expected.setdefault(name.lower(), f"{name}=={dist.version}")
    assert frozen_requirements(refresh=True) == [expected[k] for k in sorted(expected)]


# -- load_state -----------------------------------------------------------------------


def test_load_state_into_a_fresh_instance():
    root = build(NESTED)
    other = build(NESTED.replace("x: 5", "x: 9"))
    result = other.load_state(root.get_state(), strict=True)
    assert result == LoadResult([], [])
    assert other.model.leaf.x == 5
    assert torch.equal(other.model.linear.bias, root.model.linear.bias)


def test_load_state_does_not_modify_its_input():
    root = build(NESTED)
    state = root.get_state()
    keys = list(state)
    build(NESTED).load_state(state)
    assert list(state) == keys


def test_custom_state_hooks_round_trip():  # C32
    custom = build("!StCustom {size: 4}")
    state = custom.get_state()
    assert state["total"] == 6
    assert torch.equal(state["values"], torch.tensor([0, 1, 2, 3]))
    other = build("!StCustom {size: 1}")
    assert other.load_state(state, strict=True) == LoadResult([], [])
    assert other.values == [0, 1, 2, 3]


def test_custom_load_hook_errors_fail_the_load():
    state = build("!StCustom {size: 3}").get_state()
    state["total"] = 100
    with pytest.raises(LoadError, match="total does not match values"):
        build("!StCustom {}").load_state(state)


def test_missing_and_unexpected_keys(caplog):
    state = build(NESTED).get_state()
    del state["model.leaf.x"]
    state["model.surprise"] = 1
    target = build(NESTED)
    with caplog.at_level(logging.WARNING, logger="flambe.compile.state"):
        result = target.load_state(state)
    assert result.missing_keys == ["model.leaf.x"]
    assert result.unexpected_keys == ["model.surprise"]
    assert "missing key(s): 'model.leaf.x'" in caplog.text
    with pytest.raises(LoadError) as info:
        target.load_state(state, strict=True)
    message = str(info.value)
    assert "missing key(s): 'model.leaf.x'" in message
    assert "unexpected key(s): 'model.surprise'" in message
    assert "strict=False" in message


def test_plain_torch_state_dict_loads_into_a_component():
    root = build(NESTED)
    model = build(NESTED).model
    result = model.load_state(root.model.state_dict())
    assert result.missing_keys == ["leaf.x"]
    assert torch.equal(model.linear.weight, root.model.linear.weight)


def test_shape_mismatch_is_a_load_error():
    state = build(NESTED).get_state()
    target = build(NESTED.replace("leaf:", "n: 4\n  leaf:"))
    with pytest.raises(LoadError, match="cannot load the tensors of StNet at 'model'"):
        target.load_state(state)


def test_optimizer_and_scheduler_contribute_nothing():
    root = build(NESTED)
    assert not any(k.startswith(("optimizer", "scheduler")) for k in root.get_state())


# -- versions ------------------------------------------------------------------------------


def _saved_with(monkeypatch, version: str) -> State:
    monkeypatch.setattr(StVersioned, "_flambe_version", version)
    state = StVersioned().get_state()
    monkeypatch.undo()
    return state


def test_major_version_mismatch_raises(monkeypatch):  # C40, SPEC §10.1
    state = _saved_with(monkeypatch, "1.0.0")
    monkeypatch.setattr(StVersioned, "_flambe_version", "2.0.0")
    with pytest.raises(VersionMismatchError) as info:
        StVersioned().load_state(state)
    message = str(info.value)
    assert "StVersioned" in message and "1.0.0" in message and "2.0.0" in message
    assert "_migrate_state" in message
    assert isinstance(info.value, LoadError)


def test_major_mismatch_from_state_newer_than_class(monkeypatch):
    state = _saved_with(monkeypatch, "3.1.0")
    with pytest.raises(VersionMismatchError):
        StVersioned().load_state(state)


def test_minor_version_mismatch_warns(monkeypatch):  # SPEC §10.1: 0.x versions opt in too
    state = _saved_with(monkeypatch, "0.1.0")
    monkeypatch.setattr(StVersioned, "_flambe_version", "0.2.0")
    with pytest.warns(StateVersionWarning, match="minor versions differ"):
        StVersioned().load_state(state)


def test_minor_mismatch_1_2_3_to_1_3_0_warns(monkeypatch):  # C40
    state = _saved_with(monkeypatch, "1.2.3")
    monkeypatch.setattr(StVersioned, "_flambe_version", "1.3.0")
    with pytest.warns(StateVersionWarning):
        StVersioned().load_state(state)


def test_patch_mismatch_only_logs(monkeypatch, caplog):
    state = _saved_with(monkeypatch, "1.2.3")
    monkeypatch.setattr(StVersioned, "_flambe_version", "1.2.4")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with caplog.at_level(logging.DEBUG, logger="flambe.compile.versioning"):
            StVersioned().load_state(state)
    assert "saved with version 1.2.3" in caplog.text


def test_unversioned_edited_source_only_warns():  # C40
    leaf = StLeaf(3)
    state = leaf.get_state()
    state._metadata[""]["_flambe_source"] = "class StLeaf:\n    pass\n"
    with pytest.warns(StateVersionWarning, match="source of StLeaf changed"):
        StLeaf().load_state(state)
    state._metadata[""]["_flambe_source"] = inspect.getsource(StLeaf)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        StLeaf().load_state(state)


def test_migration_hook_upgrades_old_states(monkeypatch):
    state = _saved_with(monkeypatch, "1.4.0")
    calls = []

    def migrate(cls, state, prefix, from_version):
        calls.append((prefix, from_version))
        for name in ("weight", "bias"):
            state[f"{prefix}head.{name}"] = state.pop(f"{prefix}out.{name}")
        return "2.0.0"

    class StMigrating(Component, torch.nn.Module, should_register=False):
        _flambe_version = "2.0.0"
        _migrate_state = classmethod(migrate)

        def __init__(self) -> None:
            super().__init__()
            self.head = torch.nn.Linear(2, 2)

    target = StMigrating()
    assert target.load_state(state, strict=True) == LoadResult([], [])
    assert calls == [("", "1.4.0")]
    assert torch.equal(target.head.weight, state["out.weight"])
    assert "out.weight" in state  # the caller's state is untouched


def test_migration_that_returns_none_still_fails_on_major(monkeypatch):
    state = _saved_with(monkeypatch, "1.0.0")
    monkeypatch.setattr(StVersioned, "_flambe_version", "2.0.0")
    monkeypatch.setattr(StVersioned, "_migrate_state", classmethod(lambda c, s, p, v: None))
    with pytest.raises(VersionMismatchError):
        StVersioned().load_state(state)


def test_version_parsing():
    assert parse_version("1.2.3") == (1, 2, 3)
    assert parse_version("2.0.0rc1") == (2, 0, 0)
    with pytest.raises(LoadError, match="not a semantic version"):
        parse_version("one")
    with pytest.raises(LoadError, match="not a semantic version"):
        check_version(StVersioned, "1.2", "model")
