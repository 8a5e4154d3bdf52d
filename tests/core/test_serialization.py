"""flambe.save / flambe.load: layouts, archives, sub-folders, weights-only mode, errors."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

import flambe
from flambe.compile import Component, yaml
from flambe.compile.serialization import (
    DestinationExistsError,
    frozen_requirements,
    load,
    load_state_from_file,
    save,
    save_state_to_file,
    write_deps,
)
from flambe.compile.state import State
from flambe.errors import ExtensionError, LoadError, VersionMismatchError

NODE_FILES = {
    "state.pt",
    "version.txt",
    "class.txt",
    "source.py",
    "config.yaml",
    "protocol_version.txt",
    "stash.pkl",
}
ROOT_FILES = NODE_FILES | {"requirements.txt", "plugins.json"}


class SerLeaf(Component):
    def __init__(self, x: int = 1) -> None:
        super().__init__()
        self.x = x
        self.register_attrs("x")


class SerNet(Component, torch.nn.Module):
    def __init__(self, leaf: Component, n: int = 3) -> None:
        super().__init__()
        self.leaf = leaf
        self.linear = torch.nn.Linear(n, 2)


class SerTorchOnly(torch.nn.Module):
    def __init__(self, child: torch.nn.Module) -> None:
        super().__init__()
        self.child = child


class SerItem(Component, torch.nn.Module):
    def __init__(self, x: int = 7) -> None:
        super().__init__()
        self.torch_only = SerTorchOnly(SerNet(SerLeaf(x)))


class SerRoot(Component):
    """Torch modules under a plain component, and a component under a torch-only module."""

    def __init__(self, model: Component, item: Component) -> None:
        super().__init__()
        self.model = model
        self.item = item
        self.plain = torch.nn.Linear(2, 2)


class SerPair(Component):
    def __init__(self, first: Component, second: Component) -> None:
        super().__init__()
        self.first = first
        self.second = second


class SerBlob:
    """Not registrable: configs can only stash it."""

    def __init__(self) -> None:
        self.arr = np.arange(3)


class SerData(Component):
    def __init__(self, n: int = 2) -> None:
        super().__init__()
        self.blob = SerBlob()
        self.n = n


class SerInner(Component):
    def __init__(self, value: object, size: int) -> None:
        super().__init__()
        self.value = value
        self.size = size


class SerOuter(Component):
    def __init__(self, data: Component, model: Component) -> None:
        super().__init__()
        self.data = data
        self.model = model


class SerVersioned(Component):
    _flambe_version = "1.0.0"

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.ones(2)
        self.register_attrs("w")


ROOT = """
!SerRoot
model: !SerNet
  leaf: !SerLeaf {x: 5}
item: !SerItem {}
"""


def build(text: str = ROOT):
    return yaml.load(text)()


def assert_same_state(a: State, b: State) -> None:
    assert set(a) == set(b)
    for key in a:
        if isinstance(a[key], torch.Tensor):
            assert torch.equal(a[key], b[key]), key
        else:
            assert a[key] == b[key], key
    assert a._metadata["_flambe_directories"] == b._metadata["_flambe_directories"]
    for key, local in a._metadata.items():
        if isinstance(local, dict):
            assert local == b._metadata[key], key


def files_under(path: Path) -> dict:
    return {os.path.relpath(d, path): set(f) for d, _, f in os.walk(path)}


# -- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "compress,pickle_only,name",
    [
        (False, False, "p"),
        (False, True, "p.pkl"),
        (True, False, "p.tar.gz"),
        (True, True, "p.pkl.tar.gz"),
    ],
)
def test_state_round_trip_in_every_form(tmp_path, compress, pickle_only, name):  # C34
    obj = build()
    obj.model.leaf.x = 6
    state = obj.get_state()
    written = save_state_to_file(state, tmp_path / "p", compress=compress, pickle_only=pickle_only)
    assert written == str(tmp_path / name)
    assert sorted(os.listdir(tmp_path)) == [name]
    loaded = load_state_from_file(written)
    fresh = build()  # other random weights, x == 5
    fresh.load_state(loaded, strict=True)
    assert fresh.model.leaf.x == 6
    assert_same_state(fresh.get_state(), state)


@pytest.mark.parametrize("compress", [False, True])
def test_save_then_load_rebuilds_the_object(tmp_path, compress):  # C35
    obj = build()
    obj.item.torch_only.child.leaf.x = 11
    path = save(obj, tmp_path / "ckpt", compress=compress)
    loaded = load(path)
    assert type(loaded) is SerRoot
    assert type(loaded.item.torch_only) is SerTorchOnly
    assert loaded.item.torch_only.child.leaf.x == 11
    assert torch.equal(loaded.plain.weight, obj.plain.weight)
    assert torch.equal(loaded.model.linear.weight, obj.model.linear.weight)
    assert_same_state(loaded.get_state(), obj.get_state())


def test_directory_layout(tmp_path):  # C36
    path = Path(save(build(), tmp_path / "ckpt"))
    files = files_under(path)
    assert files == {
        ".": ROOT_FILES,
        "model": NODE_FILES,
        "model/leaf": NODE_FILES,
        "item": NODE_FILES,
        "item/torch_only.child": NODE_FILES,
        "item/torch_only.child/leaf": NODE_FILES,
    }
    assert (path / "version.txt").read_text() == "SerRoot:0.0.0"
    assert (path / "class.txt").read_text() == f"{__name__}:SerRoot"
    assert (path / "protocol_version.txt").read_text() == "1"
    assert (path / "model" / "config.yaml").read_text() == "!SerNet\nleaf: !SerLeaf\n  x: 5\nn: 3\n"
    assert (path / "source.py").read_text().startswith("class SerRoot(Component):")
    requirements = (path / "requirements.txt").read_text()
    assert requirements == "\n".join(frozen_requirements())
    assert f"torch=={torch.__version__}" in requirements.splitlines()
    assert not requirements.endswith("\n")
    plugins = json.loads((path / "plugins.json").read_text())
    assert isinstance(plugins, dict) and "torch" not in plugins  # no torch-wrapped component
    # state.pt only holds tensors and plain data: the default torch.load reads it
    payload = torch.load(path / "model" / "state.pt")
    assert set(payload["values"]) == {"linear.weight", "linear.bias"}


def test_archive_holds_the_tree_under_the_base_name(tmp_path):  # C36
    path = save(build(), tmp_path / "ckpt", compress=True)
    with tarfile.open(path) as tar:
        names = tar.getnames()
    assert names[0] == "ckpt"
    assert "ckpt/requirements.txt" in names
    assert "ckpt/item/torch_only.child/leaf/state.pt" in names


def test_load_from_a_sub_directory(tmp_path):  # C37
    obj = build()
    path = Path(save(obj, tmp_path / "ckpt"))
    model = load(path / "model")
    assert type(model) is SerNet
    assert model.leaf.x == 5
    assert torch.equal(model.linear.weight, obj.model.linear.weight)
    # built inside SerItem.__init__, so it has no config of its own: state only
    with pytest.raises(LoadError, match="no config found"):
        load(path / "item" / "torch_only.child")
    deep = SerNet(SerLeaf())
    deep.load_state(load_state_from_file(path / "item" / "torch_only.child"), strict=True)
    assert deep.leaf.x == 7
    assert torch.equal(deep.linear.weight, obj.item.torch_only.child.linear.weight)
    assert type(SerNet.load_from_path(str(path / "model"))) is SerNet
    leaf = yaml.load(f"!SerLeaf.load_from_path {{path: '{path / 'model' / 'leaf'}'}}")()
    assert leaf.x == 5


def test_shared_objects_stay_shared_after_load(tmp_path):  # C12
    pair = build("!SerPair\nfirst: &l !SerLeaf {x: 2}\nsecond: *l\n")
    loaded = load(save(pair, tmp_path / "pair"))
    assert loaded.first is loaded.second
    assert loaded.first.x == 2


def test_values_linked_from_outside_are_stashed(tmp_path):  # C27
    outer = build(
        "!SerOuter\ndata: !SerData {n: 4}\nmodel: !SerInner\n"
        "  value: !@ data.blob\n  size: !@ data.n\n"
    )
    path = Path(save(outer.model, tmp_path / "inner"))
    assert (path / "config.yaml").read_text() == "!SerInner\nvalue: !$ 0\nsize: 4\n"
    inner = load(path)
    assert isinstance(inner.value, SerBlob)
    assert inner.value.arr.tolist() == [0, 1, 2]
    with pytest.raises(LoadError, match="stash"):
        load(path, weights_only=True)
    whole = load(save(outer, tmp_path / "outer"))
    assert whole.model.value is whole.data.blob


def test_load_through_a_file_url(tmp_path):
    path = save(build(), tmp_path / "ckpt")
    assert type(load(Path(path).as_uri())) is SerRoot


def test_object_built_in_code_loads_from_the_arguments_it_was_built_with(tmp_path):  # C16
    leaf = SerLeaf(3)
    path = save(leaf, tmp_path / "leaf")
    loaded = load(path)
    assert type(loaded) is SerLeaf and loaded is not leaf and loaded.x == 3
    # a bare state (no config) still needs its class to load
    bare = save_state_to_file(leaf.get_state(), tmp_path / "bare")
    with pytest.raises(LoadError, match="no config found") as info:
        load(bare)
    assert "load_state" in str(info.value)
    fresh = SerLeaf()
    fresh.load_state(load_state_from_file(bare))
    assert fresh.x == 3


def test_missing_keys_are_logged_when_loading(tmp_path, caplog):
    path = Path(save(build(), tmp_path / "ckpt"))
    state = load_state_from_file(path)
    del state["model.leaf.x"]
    save_state_to_file(state, tmp_path / "partial")
    with caplog.at_level("WARNING"):
        loaded = load(tmp_path / "partial")
    assert loaded.model.leaf.x == 5  # from the config, not the state
    assert "missing key(s): 'model.leaf.x'" in caplog.text
    with pytest.raises(LoadError, match="missing key"):
        load(tmp_path / "partial", strict=True)


# -- weights-only -------------------------------------------------------------------------


def test_weights_only_loads_tensor_and_plain_states(tmp_path):
    obj = build()
    loaded = load(save(obj, tmp_path / "ckpt"), weights_only=True)
    assert torch.equal(loaded.model.linear.weight, obj.model.linear.weight)


def test_weights_only_refuses_pickled_values(tmp_path):
    leaf = build("!SerLeaf {x: 1}")
    leaf.x = SerBlob()
    path = save(leaf, tmp_path / "leaf")
    assert (Path(path) / "objects.pkl").exists()
    with pytest.raises(LoadError) as info:
        load(path, weights_only=True)
    assert "'x'" in str(info.value) and "weights_only=False" in str(info.value)
    assert isinstance(load(path).x, SerBlob)  # trusted mode


def test_weights_only_refuses_single_file_pickles(tmp_path):
    path = save(build(), tmp_path / "ckpt", pickle_only=True)
    with pytest.raises(LoadError, match="weights_only=False"):
        load_state_from_file(path, weights_only=True)


# -- errors -----------------------------------------------------------------------------------


def test_save_refuses_existing_destinations(tmp_path):  # C38
    obj = build()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "something").write_text("x")
    with pytest.raises(ValueError, match="already exists and is not empty"):
        save(obj, tmp_path / "full")
    (tmp_path / "file.pkl").write_text("x")
    with pytest.raises(DestinationExistsError, match="overwrite=True"):
        save(obj, tmp_path / "file", pickle_only=True)
    (tmp_path / "empty").mkdir()
    save(obj, tmp_path / "empty")  # an empty folder is fine
    assert (tmp_path / "empty" / "state.pt").exists()


def test_overwrite_replaces_the_whole_save(tmp_path):
    path = Path(save(build(), tmp_path / "ckpt"))
    (path / "stale").mkdir()
    (path / "stale" / "state.pt").write_bytes(b"")
    save(build("!SerLeaf {x: 4}"), path, overwrite=True)
    assert not (path / "stale").exists() and not (path / "model").exists()
    assert load(path).x == 4
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt"]  # no temporary left behind


def test_newer_protocol_is_refused(tmp_path):  # C39
    path = Path(save(build(), tmp_path / "ckpt"))
    (path / "model" / "protocol_version.txt").write_text("2")
    with pytest.raises(LoadError, match="protocol 2") as info:
        load(path)
    assert "upgrade flambe-core" in str(info.value)


@pytest.mark.parametrize("config", ["", "{}\n---\n!SerLeaf {}\n---\n!SerLeaf {}\n"])
def test_config_with_no_or_too_many_documents(tmp_path, config):  # C42
    path = Path(save(build("!SerLeaf {}"), tmp_path / "leaf"))
    (path / "config.yaml").write_text(config)
    with pytest.raises(LoadError):
        load(path)


def test_missing_extension_fails_unless_installed(tmp_path):  # C41
    path = Path(save(build("!SerLeaf {}"), tmp_path / "leaf"))
    config = (path / "config.yaml").read_text()
    (path / "config.yaml").write_text("flambe_no_such_ext: flambe-no-such-ext==1.0\n---\n" + config)
    with pytest.raises(ExtensionError, match="flambe_no_such_ext"):
        load(path)


def test_version_mismatch_through_load(tmp_path, monkeypatch):
    path = save(build("!SerVersioned {}"), tmp_path / "v")
    monkeypatch.setattr(SerVersioned, "_flambe_version", "2.0.0")
    with pytest.raises(VersionMismatchError, match="1.0.0"):
        load(path)


def test_not_a_save(tmp_path):
    with pytest.raises(LoadError, match="no such file"):
        load(tmp_path / "nothing")
    (tmp_path / "folder").mkdir()
    with pytest.raises(LoadError, match="not a flambe save"):
        load(tmp_path / "folder")


def test_write_deps(tmp_path):  # C47
    write_deps(tmp_path / "req.txt", ["a==1", "b"])
    assert (tmp_path / "req.txt").read_text() == "a==1\nb"


def test_public_names():
    assert flambe.save is save and flambe.load is load


# -- fast init: models built on the meta device --------------------------------------------

INIT_DEVICES: list = []


class FastNet(Component, torch.nn.Module):
    def __init__(self, n: int = 4, tie: bool = False, extra: str = "") -> None:
        super().__init__()
        self.emb = torch.nn.Embedding(n, n)
        self.out = torch.nn.Linear(n, n, bias=False)
        if tie:
            self.out.weight = self.emb.weight
        INIT_DEVICES.append(self.emb.weight.device.type)
        if extra == "non_persistent":
            self.register_buffer("scale", torch.arange(n, dtype=torch.float), persistent=False)
        elif extra == "plain_tensor":
            self.table = torch.arange(n)
        elif extra == "registered_tensor":
            self.table = torch.arange(n)
            self.register_attrs("table")
        elif extra == "item":
            self.norm = float(self.emb.weight.norm().item())


def fast_round_trip(tmp_path, config: str, **load_kwargs):
    obj = yaml.load(config)()
    if hasattr(obj, "table"):
        obj.table = obj.table * 10
    path = save(obj, tmp_path / "net")
    INIT_DEVICES.clear()
    loaded = load(path, **load_kwargs)
    assert_same_state(loaded.get_state(), obj.get_state())
    return obj, loaded, list(INIT_DEVICES)


def test_fast_init_builds_on_meta_and_restores_everything(tmp_path):
    obj, loaded, devices = fast_round_trip(tmp_path, "!FastNet {}", fast_init=True)
    assert devices == ["meta"]
    assert all(not p.is_meta for p in loaded.parameters())
    assert torch.equal(loaded.out.weight, obj.out.weight)


def test_fast_init_is_automatic_for_large_states(tmp_path, monkeypatch):
    import flambe.compile.meta_init as meta_init

    monkeypatch.setattr(meta_init, "FAST_INIT_MIN_NUMEL", 16)
    assert fast_round_trip(tmp_path, "!FastNet {}")[2] == ["meta"]
    monkeypatch.setattr(meta_init, "FAST_INIT_MIN_NUMEL", 10**9)
    assert fast_round_trip(tmp_path / "b", "!FastNet {}")[2] == ["cpu"]
    assert fast_round_trip(tmp_path / "c", "!FastNet {}", fast_init=False)[2] == ["cpu"]


def test_fast_init_keeps_tied_weights_tied(tmp_path):
    _, loaded, devices = fast_round_trip(tmp_path, "!FastNet {tie: true}", fast_init=True)
    assert devices == ["meta"]
    assert loaded.out.weight is loaded.emb.weight


def test_fast_init_keeps_registered_tensors(tmp_path):
    _, loaded, devices = fast_round_trip(
        tmp_path, "!FastNet {extra: registered_tensor}", fast_init=True
    )
    assert devices == ["meta"]
    assert loaded.table.tolist() == [0, 10, 20, 30]


@pytest.mark.parametrize("extra", ["non_persistent", "plain_tensor", "item"])
def test_fast_init_falls_back_when_init_needs_real_tensors(tmp_path, extra):
    _, loaded, devices = fast_round_trip(tmp_path, f"!FastNet {{extra: {extra}}}", fast_init=True)
    assert devices[-1] == "cpu"
    if extra == "non_persistent":
        assert loaded.scale.tolist() == [0.0, 1.0, 2.0, 3.0]
    if extra == "plain_tensor":
        assert loaded.table.tolist() == [0, 1, 2, 3]


def test_fast_init_skips_objects_with_plain_components(tmp_path):
    obj = build()
    INIT_DEVICES.clear()
    loaded = load(save(obj, tmp_path / "ckpt"), fast_init=True)
    assert not any(p.is_meta for p in loaded.model.parameters())
    assert torch.equal(loaded.model.linear.weight, obj.model.linear.weight)
