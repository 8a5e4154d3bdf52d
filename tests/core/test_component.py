"""Components: compile, defaults, configs for saving, wrapped classes (C15, C16, C27, C46)."""

from __future__ import annotations

import pickle
import warnings
from typing import Any

import dill
import pytest
import torch

from flambe.compile import yaml
from flambe.compile.component import (
    Component,
    all_subclasses,
    check_arguments,
    dynamic_component,
    make_component,
    signature_defaults,
)
from flambe.compile.link import PickledDataLink
from flambe.compile.registrable import Registrable, registrable_factory
from flambe.compile.schema import Schema
from flambe.errors import ArgumentError, CompilationError


class CoBlob:
    """A value YAML cannot hold."""

    def __init__(self, v: int) -> None:
        self.v = v


class CoData(Component):
    def __init__(self, vocab_size: int = 10) -> None:
        self.vocab_size = vocab_size
        self.blob = CoBlob(3)
        self.text = CoBlob(vocab_size)


class CoEncoder(Component):
    def __init__(self, hidden_size: int = 4) -> None:
        self.hidden_size = hidden_size
        self.rnn = CoBlob(hidden_size * 10)


class CoEmbedder(Component):
    def __init__(self, encoder: Any = None, n: int = 0) -> None:
        self.encoder = encoder
        self.n = n


class CoModel(Component):
    def __init__(
        self,
        num_embeddings: int = 0,
        weird: Any = None,
        embedder: Any = None,
        out: int = 0,
        other: Any = None,
    ) -> None:
        self.num_embeddings, self.weird, self.embedder = num_embeddings, weird, embedder
        self.out, self.other = out, other


class CoPlain(Component):
    def __init__(self, x: int = 1, y: Any = None, fn: Any = print) -> None:
        self.x, self.y, self.fn = x, y, fn

    @registrable_factory
    @classmethod
    def twice(cls, x: int = 1) -> CoPlain:
        return cls(x=2 * x)


class CoNoInit(Component):
    pass


class CoModule(Component, torch.nn.Module):
    def __init__(self, size: int = 2) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(size, size)


# ---------------------------------------------------------------------------
# compile and defaults
# ---------------------------------------------------------------------------


def test_compile_records_kwargs_and_plain_defaults() -> None:
    obj = CoPlain.compile(x=3)
    assert obj.x == 3
    assert obj._saved_kwargs == {"x": 3, "y": None}  # `print` cannot be written as YAML
    assert yaml.dump(obj) == "!CoPlain\nx: 3\ny: null\n"


def test_signature_defaults() -> None:
    assert signature_defaults(CoPlain) == {"x": 1, "y": None}
    assert signature_defaults(CoPlain, "twice") == {"x": 1}
    assert signature_defaults(CoNoInit) == {}


def test_compile_with_factory_keeps_factory_tag() -> None:
    obj = CoPlain.compile(_flambe_custom_factory_name="twice", x=2)
    assert obj.x == 4
    assert yaml.dump(obj) == "!CoPlain.twice\nx: 2\n"


def test_component_without_init_compiles() -> None:
    obj = yaml.load("!CoNoInit {}")()
    assert isinstance(obj, CoNoInit) and obj._schema is not None


def test_nn_module_component_compiles_and_dumps() -> None:
    obj = yaml.load("!CoModule {size: 3}")()
    assert isinstance(obj, torch.nn.Module) and obj.linear.in_features == 3
    assert yaml.dump(obj) == "!CoModule\nsize: 3\n"


def test_plain_constructor_object_has_no_config() -> None:
    """C16."""
    obj = CoPlain(x=1)
    assert not hasattr(obj, "_saved_kwargs")
    with pytest.raises(AttributeError):
        obj._config_str
    with pytest.raises(AttributeError):
        obj._config_for_save()
    assert "_flambe_config" not in obj.get_state()._metadata[""]


def test_config_str_of_compiled_object() -> None:
    obj = yaml.load("!CoPlain {x: 5}")()
    assert obj._config_str == "!CoPlain\nx: 5\ny: null\n"
    assert "_flambe_config" in obj.get_state()._metadata[""]


def test_constructor_failure_is_compilation_error_with_cause() -> None:
    schema = yaml.load("a: 1\nm: !CoModule\n  size: -1\n", file="neg.yaml")["m"]
    with pytest.raises(CompilationError) as info:
        schema()
    error = info.value
    assert str(error.location) == "neg.yaml:2:4"
    assert "!CoModule" in error.message and isinstance(error.__cause__, RuntimeError)


def test_check_arguments_lists_every_problem() -> None:
    problems = check_arguments(CoPlain, None, {"xx": 1, "zz": 2})
    assert [type(p) for p in problems] == [ArgumentError, ArgumentError]
    assert "'xx'" in problems[0].message and "did you mean 'x'" in problems[0].hint
    assert "accepted: x, y, fn" in problems[1].hint
    assert check_arguments(CoPlain, None, {"x": 1}) == []


def test_all_subclasses() -> None:
    class CoRoot(Component):
        pass

    class CoMid(CoRoot):
        pass

    class CoLeaf(CoMid):
        pass

    assert all_subclasses(CoRoot) == {CoMid, CoLeaf}


# ---------------------------------------------------------------------------
# C27: the config of a sub-object for saving
# ---------------------------------------------------------------------------

SAVE_CONFIG = """\
dataset: !CoData {vocab_size: 7}
model: !CoModel
  num_embeddings: !@ dataset.vocab_size
  weird: !@ dataset.blob
  embedder: !CoEmbedder
    encoder: !CoEncoder {hidden_size: 5}
  out: !@ model[embedder][encoder].rnn.v
  other: !@ dataset
"""


def _compiled_save_config() -> Any:
    config = yaml.load(SAVE_CONFIG)
    dataset = config["dataset"]()
    return dataset, config["model"]()


def test_config_for_save_inlines_outside_values_and_stashes_the_rest() -> None:
    dataset, model = _compiled_save_config()
    assert (model.num_embeddings, model.out) == (7, 50)
    text, stash = model._config_for_save()
    assert text == (
        "!CoModel\n"
        "num_embeddings: 7\n"
        "weird: !$ 0\n"
        "embedder: !CoEmbedder\n"
        "  encoder: !CoEncoder\n"
        "    hidden_size: 5\n"
        "  n: 0\n"
        "out: !@ embedder[encoder].rnn.v\n"
        "other: !CoData\n"
        "  vocab_size: 7\n"
    )
    assert list(stash) == ["0"] and stash["0"] is dataset.blob


def test_saved_config_compiles_with_its_stash() -> None:
    dataset, model = _compiled_save_config()
    text, stash = model._config_for_save()
    restored = yaml.load(text)(stash)
    assert restored.num_embeddings == 7 and restored.out == 50
    assert restored.weird is dataset.blob
    assert isinstance(restored.other, CoData) and restored.other.vocab_size == 7
    assert isinstance(restored.embedder, CoEmbedder)
    assert isinstance(yaml.load(text)["weird"], PickledDataLink)


def test_config_for_save_of_root_is_its_plain_config() -> None:
    obj = yaml.load("!CoPlain {x: 2}")()
    text, stash = obj._config_for_save()
    assert text == "!CoPlain\nx: 2\ny: null\n" and stash == {}


# ---------------------------------------------------------------------------
# C46: wrapped third-party classes
# ---------------------------------------------------------------------------


def _linear_untouched() -> None:
    assert Component not in torch.nn.Linear.__mro__
    assert "_flambe_dynamic" not in vars(torch.nn.Linear)
    assert not hasattr(torch.nn.Linear, "from_yaml")
    assert not isinstance(torch.nn.Linear(2, 2), Component)


def test_torch_tag_compiles_to_linear_and_component() -> None:
    obj = yaml.load("!torch.Linear {in_features: 2, out_features: 2}")()
    assert isinstance(obj, torch.nn.Linear) and isinstance(obj, Component)
    assert type(obj).__name__ == "Linear" and type(obj).__module__ == "flambe.compile.wrapped"
    assert obj.weight.shape == (2, 2)
    _linear_untouched()


def test_make_component_registers_torch_classes() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # wrapping deprecated torch classes must stay quiet
        make_component(
            torch.nn.Module,
            "torch",
            only_module="torch.nn",
            exclude=["torch.nn.quantized", "torch.nn.qat", "torch.nn.intrinsic"],
        )
    obj = yaml.load("!torch.Linear {in_features: 2, out_features: 2}")()
    assert isinstance(obj, torch.nn.Linear) and isinstance(obj, Component)
    assert Registrable.get_default_tag(type(obj)) == "!torch.Linear"
    _linear_untouched()


def test_wrapper_is_cached_and_picklable() -> None:
    first = yaml.load("!torch.Linear {in_features: 2, out_features: 3}")()
    second = yaml.load("!torch.nn.Linear {in_features: 2, out_features: 3}")()
    assert type(first) is type(second)
    for module in (pickle, dill):
        copy = module.loads(module.dumps(first))
        assert type(copy) is type(first)
        assert torch.equal(copy.weight, first.weight)


def test_wrapped_torch_object_dumps_with_its_tag_and_defaults() -> None:
    obj = yaml.load("!torch.Linear {in_features: 2, out_features: 3}")()
    assert yaml.dump(obj) == (
        "!torch.Linear\nin_features: 2\nout_features: 3\nbias: true\ndevice: null\ndtype: null\n"
    )


def test_torch_optimizer_gets_params_through_call_link() -> None:
    text = """\
model: !torch.Linear {in_features: 2, out_features: 1}
opt: !torch.Adam
  params: !call model.parameters
  lr: 0.5
"""
    config = yaml.load(text)
    model, opt = config["model"](), config["opt"]()
    assert isinstance(opt, torch.optim.Adam) and isinstance(opt, Component)
    assert opt.param_groups[0]["lr"] == 0.5
    assert {id(p) for p in opt.param_groups[0]["params"]} == {id(p) for p in model.parameters()}


def test_dynamic_component_of_component_is_itself() -> None:
    assert dynamic_component(CoPlain, tag=None) is CoPlain


def test_dynamic_component_with_tag() -> None:
    class CoThirdParty:
        def __init__(self, a: int = 1) -> None:
            self.a = a

    wrapper = dynamic_component(CoThirdParty, tag="co_third_party")
    obj = yaml.load("!co_third_party {a: 4}")()
    assert type(obj) is wrapper and isinstance(obj, CoThirdParty) and obj.a == 4
    assert Component not in CoThirdParty.__mro__


def test_schema_of_wrapped_class() -> None:
    schema = yaml.load("!torch.ReLU {}")
    assert isinstance(schema, Schema)
    assert issubclass(schema.component_subclass, torch.nn.ReLU)
