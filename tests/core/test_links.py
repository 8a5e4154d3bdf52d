"""Links: parsing, lexical binding, resolution, ordering checks, !call and !$ (C18-C27)."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import torch

from flambe.compile import yaml
from flambe.compile.component import Component
from flambe.compile.link import (
    FunctionCallLink,
    Link,
    PickledDataLink,
    create_link_str,
    parse_link_str,
)
from flambe.compile.schema import Schema
from flambe.errors import LinkError, MalformedLinkError, UnpreparedLinkError


class LkBox:
    """A plain (non-component) attribute holder."""

    def __init__(self, **attrs: Any) -> None:
        self.__dict__.update(attrs)


class LkEncoder(Component):
    def __init__(self, hidden_size: int = 4, input_size: Any = None) -> None:
        self.hidden_size = hidden_size
        self.input_size = input_size
        self.rnn = LkBox(hidden_size=hidden_size * 10)


class LkEmbedder(Component):
    def __init__(self, encoder: Any = None, size: Any = None) -> None:
        self.encoder = encoder
        self.size = size


class LkModel(Component):
    def __init__(
        self, embedder: Any = None, data: Any = None, user: Any = None, items: Any = None
    ) -> None:
        self.embedder, self.data, self.user, self.items = embedder, data, user, items

    def trainable_params(self) -> list[str]:
        return ["w", "b"]


class LkTrainer(Component):
    """Replaces its model by a wrapper: ``trainer.model`` differs from ``trainer[model]``."""

    def __init__(self, model: Any = None, optimizer: Any = None, size: Any = None) -> None:
        self.model = LkBox(wrapped=model)
        self.optimizer = optimizer
        self.size = size


class LkUser(Component):
    def __init__(self, value: Any = None, other: Any = None, emb: Any = None) -> None:
        self.value, self.other, self.emb = value, other, emb


def compile_all(config: dict) -> dict:
    """Compile the stages of a pipeline-like mapping in order."""
    return {
        key: value() if isinstance(value, (Schema, Link)) else value
        for key, value in config.items()
    }


# ---------------------------------------------------------------------------
# C18, C19: link strings
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, schematic, attrs",
    [
        ("model", ["model"], []),
        ("model.emb.enc", ["model"], ["emb", "enc"]),
        ("model[emb][enc]", ["model", "emb", "enc"], []),
        ("model[emb][enc].attr1.attr2", ["model", "emb", "enc"], ["attr1", "attr2"]),
        ("b0[values][1]", ["b0", "values", "1"], []),
    ],
)
def test_parse_and_create_are_inverse(text: str, schematic: list[str], attrs: list[str]) -> None:
    assert parse_link_str(text) == (schematic, attrs)
    assert create_link_str(schematic, attrs) == text
    assert create_link_str(*parse_link_str(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        "modelemb][enc].a",
        "model[emb]enc].a",
        "model[emb[enc].a",
        "model[emb][enc]attr1.attr2",
        "[emb]",
        ".attr2",
        "[emb][enc].attr1.attr2",
        "model[emb",
        "model[emb].",
        "model..a",
        "model[]",
        "",
    ],
)
def test_malformed_link_strings(text: str) -> None:
    with pytest.raises(MalformedLinkError):
        parse_link_str(text)


def test_create_link_str_needs_a_root() -> None:
    with pytest.raises(MalformedLinkError):
        create_link_str([])


def test_malformed_link_in_yaml_names_its_place() -> None:
    with pytest.raises(MalformedLinkError) as info:
        yaml.load("a: 1\nb: !LkUser\n  value: !@ a[x]y\n", file="m.yaml")
    assert str(info.value.location) == "m.yaml:3:10"
    assert "a[x]y" in info.value.message


# ---------------------------------------------------------------------------
# C25: tag spellings and caching
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["!@", "!link", "!Link"])
def test_link_tags_load_identically(tag: str) -> None:
    text = f"a: !LkEncoder {{hidden_size: 3}}\nb: !LkUser\n  value: {tag} a.hidden_size\n"
    config = yaml.load(text)
    link = config["b"]["value"]
    assert type(link) is Link and link.schematic_path == ["a"] and link.attr_path == ["hidden_size"]
    assert compile_all(config)["b"].value == 3
    assert yaml.dump(config["b"]) == f"!LkUser\nvalue: {tag} a.hidden_size\n"


def test_resolved_link_is_cached() -> None:
    config = yaml.load("a: !LkEncoder {hidden_size: 3}\nb: !LkUser {value: !@ a.hidden_size}\n")
    objs = compile_all(config)
    objs["a"].hidden_size = 100
    link = config["b"]["value"]
    assert link() == 3 and link.resolved == 3


def test_link_to_none_is_cached() -> None:
    config = yaml.load("a: !LkEncoder {}\nb: !LkUser {value: !@ a.input_size}\n")
    objs = compile_all(config)
    objs["a"].input_size = "changed"
    assert config["b"]["value"]() is None and config["b"]["value"].is_resolved


def test_repr() -> None:
    assert repr(Link(["a", "b"], ["c"])) == "link(a[b].c)"


# ---------------------------------------------------------------------------
# C20-C23: resolution
# ---------------------------------------------------------------------------

PIPELINE = """\
model: !LkModel
  embedder: !LkEmbedder
    encoder: !LkEncoder
      hidden_size: 7
      input_size: !@ model[data]
  data: 5
trainer: !LkTrainer
  model: !@ model
  size: !@ model[embedder][encoder].rnn.hidden_size
"""


def test_brackets_walk_config_then_dots_read_attributes() -> None:
    with pytest.raises(UnpreparedLinkError):  # input_size links to data, which comes later
        yaml.load(PIPELINE)
    config = yaml.load(PIPELINE.replace("input_size: !@ model[data]", "input_size: 5"))
    objs = compile_all(config)
    assert objs["trainer"].size == 70


def test_brackets_go_from_compiled_component_back_to_its_schema() -> None:
    text = """\
model: !LkModel
  embedder: !LkEmbedder
    encoder: !LkEncoder {hidden_size: 2}
alias: !@ model
user: !LkUser
  value: !@ alias[embedder][encoder].hidden_size
  other: !@ alias[embedder][encoder]
"""
    config = yaml.load(text)
    objs = compile_all(config)
    assert objs["user"].value == 2
    assert objs["user"].other is objs["model"].embedder.encoder


def test_brackets_follow_chained_links() -> None:
    text = """\
model: !LkModel
  embedder: !LkEmbedder
    encoder: !LkEncoder {hidden_size: 6}
user: !LkUser
  emb: !@ model[embedder]
  value: !@ emb[encoder].rnn.hidden_size
"""
    objs = compile_all(yaml.load(text))
    assert objs["user"].value == 60
    assert objs["user"].emb is objs["model"].embedder


def test_dot_reads_runtime_attribute_brackets_read_config() -> None:
    text = """\
model: !LkModel {}
trainer: !LkTrainer
  model: !@ model
user: !LkUser
  value: !@ trainer.model
  other: !@ trainer[model]
"""
    objs = compile_all(yaml.load(text))
    assert isinstance(objs["user"].value, LkBox)
    assert objs["user"].value is objs["trainer"].model
    assert objs["user"].other is objs["model"]


def test_bracket_path_may_end_on_a_raw_value_that_is_a_link() -> None:
    text = """\
b1: !LkModel
  data: 11
  embedder: !LkEmbedder
    encoder: !LkEncoder
      input_size: 3
b2: !LkTrainer
  model: !LkModel
    embedder: !LkEmbedder
      encoder: !LkEncoder
        input_size: !@ b1[embedder][encoder][input_size]
user: !LkUser
  value: !@ b2[model][embedder][encoder][input_size]
  other: !@ b1[data]
"""
    objs = compile_all(yaml.load(text))
    assert objs["user"].value == 3 and objs["user"].other == 11


def test_link_into_a_list_by_index() -> None:
    text = (
        "a: !LkModel\n  items:\n    - !LkEncoder {hidden_size: 1}\n"
        "    - !LkEncoder {hidden_size: 2}\n"
        "b: !LkUser\n  value: !@ a[items][1].hidden_size\n"
    )
    assert compile_all(yaml.load(text))["b"].value == 2


def test_link_inside_list_is_bound_by_enclosing_mapping() -> None:
    text = (
        "a: !LkEncoder {hidden_size: 1}\nb: !LkUser\n  value:\n    - !@ a.hidden_size\n"
        "    - {x: !@ a}\n"
    )
    objs = compile_all(yaml.load(text))
    assert objs["b"].value == [1, {"x": objs["a"]}]


def test_earlier_sibling_keyword() -> None:
    text = """\
b1: !LkTrainer
  model: !LkModel {}
  optimizer: !LkUser
    value: !call b1[model].trainable_params
    other: !@ b1[model].trainable_params
"""
    objs = compile_all(yaml.load(text))
    optimizer = objs["b1"].optimizer
    assert optimizer.value == ["w", "b"]  # C26: the result of calling it
    assert optimizer.other() == ["w", "b"]  # a plain link passes the bound method
    assert optimizer.other.__self__ is objs["b1"].model.wrapped


def test_bare_sibling_name_binds_to_nearest_enclosing_mapping() -> None:
    text = """\
data: !LkEncoder {hidden_size: 1}
model: !LkModel
  data: !LkEncoder {hidden_size: 2}
  user: !LkUser {value: !@ data.hidden_size}
other: !LkUser {value: !@ data.hidden_size}
"""
    objs = compile_all(yaml.load(text))
    assert objs["model"].user.value == 2
    assert objs["other"].value == 1


def test_root_naming_own_key_binds_further_out() -> None:
    """``model: !@ model`` inside a stage means the stage ``model``, not itself."""
    text = """\
model: !LkModel {data: 3}
train: !LkTrainer
  model: !@ model
  size: !@ model[data]
"""
    objs = compile_all(yaml.load(text))
    assert objs["train"].model.wrapped is objs["model"]
    assert objs["train"].size == 3


def test_nested_self_reference_binds_to_outer_stage() -> None:
    text = """\
data: !LkEncoder {hidden_size: 4}
model: !LkModel
  data: !LkEmbedder
    size: !@ data.hidden_size
"""
    objs = compile_all(yaml.load(text))
    assert objs["model"].data.size == 4


def test_function_call_link_from_python() -> None:
    config = yaml.load("m: !LkModel {}\n")
    link = FunctionCallLink(["m"], ["trainable_params"], target=config["m"])
    compile_all(config)
    assert link() == ["w", "b"]
    assert yaml.dump({"x": link}) == "x: !call m.trainable_params\n"


# ---------------------------------------------------------------------------
# C23, C24: links that cannot work
# ---------------------------------------------------------------------------


def test_link_to_later_stage_is_rejected_with_location() -> None:
    text = "first: !LkUser\n  value: !@ second.hidden_size\nsecond: !LkEncoder {}\n"
    with pytest.raises(UnpreparedLinkError) as info:
        yaml.load(text, file="later.yaml")
    error = info.value
    assert str(error.location) == "later.yaml:2:10"
    assert "second" in error.message and error.hint


def test_link_to_later_sibling_is_rejected() -> None:
    text = "b1: !LkTrainer\n  optimizer: !LkUser\n    value: !@ b1[model]\n  model: !LkModel {}\n"
    with pytest.raises(UnpreparedLinkError) as info:
        yaml.load(text, file="sib.yaml")
    assert str(info.value.location) == "sib.yaml:3:12"


def test_link_to_own_parent_is_rejected() -> None:
    text = "b0: !LkEncoder {}\nb1: !LkModel\n  embedder: !LkEmbedder\n    size: !@ b1[embedder]\n"
    with pytest.raises(UnpreparedLinkError) as info:
        yaml.load(text, file="parent.yaml")
    error = info.value
    assert (error.location.line, error.location.column) == (4, 11)
    assert "parent" in error.message


def test_link_to_own_stage_is_rejected() -> None:
    with pytest.raises(UnpreparedLinkError) as info:
        yaml.load("b1: !LkModel\n  data: !@ b1\n", file="stage.yaml")
    assert str(info.value.location) == "stage.yaml:2:9"


def test_unknown_bracket_key_is_found_when_loading() -> None:
    with pytest.raises(LinkError) as info:
        yaml.load("a: !LkEncoder {}\nb: !LkUser\n  value: !@ a[nothing]\n", file="k.yaml")
    assert "Check all !@ entries" in str(info.value)
    assert str(info.value.location) == "k.yaml:3:10"
    assert not isinstance(info.value, KeyError)


def test_unknown_bracket_key_behind_a_link_at_compile_time() -> None:
    text = "a: !LkEncoder {}\nalias: !@ a\nb: !LkUser\n  value: !@ alias[nothing]\n"
    config = yaml.load(text)
    with pytest.raises(LinkError) as info:
        compile_all(config)
    assert "Check all !@ entries" in str(info.value)
    assert (info.value.location.line, info.value.location.column) == (4, 10)


def test_unknown_key_deeper_in_the_config_is_found_when_loading() -> None:
    text = (
        "a: !LkModel\n  items:\n    - !LkEncoder {hidden_size: 1}\nb: !LkUser\n"
        "  value: !@ a[items][0][size]\n  other: !@ a[items][3]\n"
    )
    with pytest.raises(LinkError) as info:
        yaml.load(text)
    assert "'size'" in info.value.message and "hidden_size" in info.value.hint
    with pytest.raises(LinkError) as info:
        yaml.load(text.replace("[0][size]", "[0][hidden_size]"))
    assert "'3'" in info.value.message


def test_link_without_target() -> None:
    with pytest.raises(UnpreparedLinkError):
        Link(["nowhere"])()


def test_unbound_root_fails_when_compiled() -> None:
    schema = yaml.load("!LkUser\nvalue: !@ nowhere.x\n", file="u.yaml")
    with pytest.raises(UnpreparedLinkError) as info:
        schema()
    assert str(info.value.location) == "u.yaml:2:8"


def test_missing_attribute_is_link_error() -> None:
    config = yaml.load("a: !LkEncoder {}\nb: !LkUser {value: !@ a.nothing}\n")
    with pytest.raises(LinkError) as info:
        compile_all(config)
    assert "nothing" in str(info.value) and not isinstance(info.value, AttributeError)


def test_link_to_uncompiled_target_is_unprepared() -> None:
    config = yaml.load("a: !LkEncoder {}\nb: !LkUser {value: !@ a.hidden_size}\n")
    with pytest.raises(UnpreparedLinkError):
        config["b"]()  # 'a' was never compiled


# ---------------------------------------------------------------------------
# PickledDataLink
# ---------------------------------------------------------------------------


def test_pickled_data_link_reads_the_stash() -> None:
    schema = yaml.load("!LkUser\nvalue: !$ 0\nother: !PickledDataLink 1\n")
    stash = {"0": LkBox(v=1), "1": [1, 2]}
    obj = schema(stash)
    assert obj.value is stash["0"] and obj.other == [1, 2]
    assert yaml.dump(schema) == "!LkUser\nvalue: !$ 0\nother: !PickledDataLink 1\n"


def test_pickled_data_link_keeps_first_value() -> None:
    link = PickledDataLink("0")
    assert link({"0": torch.tensor([1.0, 2.0])}).tolist() == [1.0, 2.0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert link({"0": torch.tensor([1.0, 2.0])}).tolist() == [1.0, 2.0]  # equal: no warning
    with pytest.warns(UserWarning):
        value = link({"0": torch.tensor([3.0])})
    assert value.tolist() == [1.0, 2.0]


def test_pickled_data_link_without_stash_entry() -> None:
    with pytest.raises(LinkError) as info:
        yaml.load("!LkUser {value: !$ 3}")({})
    assert "3" in info.value.message
