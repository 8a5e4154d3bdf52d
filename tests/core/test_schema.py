"""Schemas: delayed initialisation, overrides, caching, compile order, extensions metadata."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import torch

from flambe.compile import yaml
from flambe.compile.component import Component
from flambe.compile.link import Link
from flambe.compile.registrable import alias
from flambe.compile.schema import Schema

BUILT: list[str] = []


class ScA(Component):
    def __init__(self, akw1: int = 0, akw2: Any = None) -> None:
        BUILT.append("ScA")
        self.akw1 = akw1
        self.akw2 = akw2


@alias("sc_b_class")
@alias("sc_b_")
class ScB(Component):
    def __init__(self, bkw1: int = 0, bkw2: str = "", bkw3: int = 99) -> None:
        BUILT.append(f"ScB{bkw1}")
        self.bkw1, self.bkw2, self.bkw3 = bkw1, bkw2, bkw3


class ScOrdered(Component):
    """Records what precompile saw, and that nothing had been built yet."""

    seen: list[Any] = []

    def __init__(
        self, first: Any = None, second: Any = None, many: Any = None, table: Any = None
    ) -> None:
        BUILT.append("ScOrdered")
        self.first, self.second, self.many, self.table = first, second, many, table

    @classmethod
    def precompile(cls, **kwargs: Any) -> None:
        cls.seen.append((dict(kwargs), list(BUILT)))


@pytest.fixture(autouse=True)
def _clear_built() -> None:
    BUILT.clear()
    ScOrdered.seen.clear()


# ---------------------------------------------------------------------------
# C9, C10, C11
# ---------------------------------------------------------------------------


def test_load_gives_a_schema_and_builds_nothing() -> None:
    schema = yaml.load("!ScA\nakw1: 8\nakw2: !ScB {bkw1: 1}\n")
    assert isinstance(schema, Schema) and BUILT == []
    assert schema.component_subclass is ScA and schema.factory_method is None
    assert isinstance(schema["akw2"], Schema)
    obj = schema()
    assert isinstance(obj, ScA) and obj.akw1 == 8
    assert isinstance(obj.akw2, ScB) and obj.akw2.bkw1 == 1
    assert obj._schema is schema and obj._created_with_tag == "!ScA"
    assert BUILT == ["ScB1", "ScA"]


def test_item_and_attribute_edits_change_the_compiled_value() -> None:
    schema = yaml.load("!ScA\nakw1: 8\nakw2: !ScB {bkw1: 1}\n")
    schema["akw2"]["bkw1"] = 13
    assert schema().akw2.bkw1 == 13
    schema = yaml.load("!ScA\nakw1: 8\nakw2: !ScB {bkw1: 1}\n")
    schema.akw2.bkw1 = 14
    assert schema.akw2["bkw1"] == 14
    assert schema().akw2.bkw1 == 14


def test_overrides_at_compile_time() -> None:
    schema = yaml.load("!ScA\nakw1: 8\n")
    assert schema(akw1=9).akw1 == 9
    assert schema["akw1"] == 8  # the schema itself is not changed


def test_second_call_returns_the_same_object_and_ignores_overrides() -> None:
    schema = yaml.load("!ScA\nakw1: 8\n")
    first = schema()
    assert schema(akw1=100) is first and first.akw1 == 8
    assert BUILT == ["ScA"]


def test_schema_built_in_python_compiles_and_dumps_with_default_tag() -> None:
    """§10.18: Schema(Test)() works; it dumps with the class's default tag."""
    schema = Schema(ScB, bkw1=3)
    assert schema._created_with_tag is None
    assert yaml.dump(schema) == "!sc_b_class\nbkw1: 3\n"
    obj = schema()
    assert isinstance(obj, ScB) and obj.bkw1 == 3
    assert yaml.dump(obj) == "!sc_b_class\nbkw1: 3\nbkw2: ''\nbkw3: 99\n"
    assert Schema(ScA)().akw1 == 0


def test_uncompiled_schema_loaded_through_alias_dumps_with_it() -> None:
    """§10.18: the alias an uncompiled schema was loaded with is kept."""
    assert yaml.dump(yaml.load("!sc_b_ {bkw1: 3}")) == "!sc_b_\nbkw1: 3\n"
    assert yaml.dump(yaml.load("!ScB {bkw1: 3}")) == "!ScB\nbkw1: 3\n"


def test_schema_with_factory_built_in_python() -> None:
    schema = Schema(ScA, "load_from_path", path="somewhere")
    assert yaml.dump(schema) == "!ScA.load_from_path\npath: somewhere\n"


# ---------------------------------------------------------------------------
# mapping protocol and repr
# ---------------------------------------------------------------------------


def test_schema_is_a_mutable_mapping() -> None:
    schema = Schema(ScA, akw1=1)
    schema["akw2"] = 5
    assert dict(schema) == {"akw1": 1, "akw2": 5} and len(schema) == 2
    del schema["akw2"]
    assert list(schema) == ["akw1"]
    schema.akw2 = 7
    assert schema.keywords == {"akw1": 1, "akw2": 7}


def test_missing_attribute_names_the_class() -> None:
    with pytest.raises(AttributeError) as info:
        Schema(ScA).nothing_here
    assert "ScA" in str(info.value) and "nothing_here" in str(info.value)


def test_repr_sorts_keywords() -> None:
    assert repr(Schema(ScA, akw2=2, akw1=1)) == repr(Schema(ScA, akw1=1, akw2=2))
    assert repr(Schema(ScA, akw2=2, akw1=1)).endswith("ScA, akw1=1, akw2=2)")


@pytest.mark.parametrize("not_a_component", [int, object, "ScA", torch.nn.Linear])
def test_schema_needs_a_component_class(not_a_component: Any) -> None:
    with pytest.raises(TypeError):
        Schema(not_a_component)


# ---------------------------------------------------------------------------
# C14: empty payloads
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["!ScB {}", "!ScB", "!ScB ~", "!ScB null"])
def test_empty_payload_uses_defaults(text: str, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        obj = yaml.load(text)()
    assert (obj.bkw1, obj.bkw2, obj.bkw3) == (0, "", 99)
    assert not caplog.records


def test_scalar_payload_warns_and_is_ignored(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        obj = yaml.load("!ScB 5", file="s.yaml")()
    assert obj.bkw1 == 0
    messages = [r.getMessage() for r in caplog.records]
    assert any("'5'" in m and "ignored" in m and "s.yaml:1:1" in m for m in messages), messages


# ---------------------------------------------------------------------------
# C17: compile order, precompile, hooks
# ---------------------------------------------------------------------------


def test_depth_first_in_mapping_order_with_lists_and_dicts() -> None:
    text = """!ScOrdered
second: !ScB {bkw1: 2}
first: !ScB {bkw1: 1}
many:
  - !ScB {bkw1: 3}
  - [!ScB {bkw1: 4}]
table:
  x: !ScB {bkw1: 5}
  y: {z: !ScB {bkw1: 6}}
"""
    obj = yaml.load(text)()
    assert BUILT == ["ScB2", "ScB1", "ScB3", "ScB4", "ScB5", "ScB6", "ScOrdered"]
    assert isinstance(obj.many[0], ScB) and isinstance(obj.many[1][0], ScB)
    assert obj.table["x"].bkw1 == 5 and obj.table["y"]["z"].bkw1 == 6


def test_precompile_sees_raw_kwargs_before_anything_is_built() -> None:
    schema = yaml.load("!ScOrdered\nfirst: !ScB {bkw1: 1}\nsecond: !@ first\n")
    schema()
    ((kwargs, built_then),) = ScOrdered.seen
    assert built_then == []
    assert isinstance(kwargs["first"], Schema) and isinstance(kwargs["second"], Link)


def test_precompile_can_add_post_init_hooks() -> None:
    class ScHooked(Component):
        def __init__(self, child: Any = None) -> None:
            self.child = child

        @classmethod
        def precompile(cls, **kwargs: Any) -> None:
            kwargs["child"].post_init_hooks.append(lambda obj: setattr(obj, "hooked", True))

    obj = Schema(ScHooked, child=Schema(ScB, bkw1=1))()
    assert obj.child.hooked is True


def test_post_init_hooks_run_once() -> None:
    calls: list[Any] = []
    schema = yaml.load("!ScB {bkw1: 1}")
    schema.post_init_hooks.append(calls.append)
    obj = schema()
    schema()
    assert calls == [obj]


def test_link_post_init_hooks_run_once_with_resolved_value() -> None:
    calls: list[Any] = []
    config = yaml.load("a: !ScB {bkw1: 4}\nb: !ScA {akw1: !@ a.bkw1}\n")
    config["b"]["akw1"].post_init_hooks.append(calls.append)
    config["a"]()
    config["b"]()
    config["b"]["akw1"]()
    assert calls == [4]


# ---------------------------------------------------------------------------
# C43: extensions metadata
# ---------------------------------------------------------------------------

EXTENSIONS = {"sc_ext": "./path/to/sc_ext", "torch": "torch", "tests": "nope"}


def test_torch_schema_keeps_only_torch_entry() -> None:
    schema = yaml.load("!torch.Linear {in_features: 2, out_features: 2}")
    schema.add_extensions_metadata(EXTENSIONS)
    assert schema._extensions == {"torch": "torch"}


def test_flambe_schema_keeps_nothing() -> None:
    class ScFlambeOnly(Component):
        pass

    ScFlambeOnly.__module__ = "flambe.something"  # as if defined inside flambe
    schema = Schema(ScFlambeOnly)
    schema.add_extensions_metadata(EXTENSIONS)
    assert schema._extensions == {}


def test_extensions_metadata_reaches_nested_schemas() -> None:
    text = """!ScA
akw1:
  - !torch.Linear {in_features: 2, out_features: 2}
akw2:
  inner: !ScB
    bkw2: !torch.ReLU {}
"""
    schema = yaml.load(text)
    schema.add_extensions_metadata({"sc_ext": "x", "torch": "torch"})
    assert schema._extensions == {}
    assert schema["akw1"][0]._extensions == {"torch": "torch"}
    assert schema["akw2"]["inner"]["bkw2"]._extensions == {"torch": "torch"}
    assert schema.aggregate_extensions_metadata() == {"torch": "torch"}
    obj = schema()
    assert obj._extensions == {"torch": "torch"}
    assert obj.aggregate_extensions_metadata() == {"torch": "torch"}


def test_load_config_applies_header_to_schemas() -> None:
    loaded = yaml.load_config("torch: torch\nsc_ext: ./x\n---\n!ScA\nakw1: !torch.ReLU {}\n")
    assert loaded.root._extensions == {}
    assert loaded.root["akw1"]._extensions == {"torch": "torch"}
