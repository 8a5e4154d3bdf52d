"""Loading and dumping YAML: values, anchors, round trips, extensions header, syntax errors."""

from __future__ import annotations

import datetime
import io
import math
from pathlib import Path
from typing import Any

import pytest

from flambe.compile import yaml
from flambe.compile.component import Component
from flambe.compile.link import FunctionCallLink, Link
from flambe.compile.registrable import alias, registrable_factory
from flambe.compile.schema import Schema
from flambe.errors import ConfigError, FlambeError, LoadError, YAMLSyntaxError


class YtData(Component):
    def __init__(self, size: int = 1, values: Any = None) -> None:
        self.size = size
        self.values = values

    def get_size(self) -> int:
        return self.size

    @registrable_factory
    @classmethod
    def make(cls, n: int = 1) -> YtData:
        return cls(size=n)


@alias("yt_model")
class YtModel(Component):
    def __init__(
        self,
        data: Any = None,
        width: int = 0,
        height: int = 0,
        depth: Any = None,
        made: Any = None,
        layers: Any = (),
        opt: Any = None,
        nested: Any = None,
        tail: Any = None,
    ) -> None:
        self.data, self.width, self.height, self.depth = data, width, height, depth
        self.made, self.layers, self.opt, self.nested, self.tail = made, layers, opt, nested, tail


@alias("yt_b")
class YtB(Component):
    def __init__(self, bkw1: int = 0, bkw2: str = "", bkw3: int = 99) -> None:
        self.bkw1, self.bkw2, self.bkw3 = bkw1, bkw2, bkw3


# A config in the form dump writes, using aliases, factory tags, the three link spellings,
# !call, anchors and aliases, nested lists and dicts, and !torch tags.
ROUND_TRIP = """\
b0: &d !YtData
  size: 3
  values:
    - 1
    - 2.5
    - name: x
      flag: true
      none: null
      quoted: 'true'
      empty: ''
b1: !yt_model
  data: *d
  width: !@ b0[size]
  height: !link b0.size
  depth: !Link b0[values]
  made: !YtData.make
    n: 2
  layers:
    - !torch.Linear
      in_features: 2
      out_features: 3
    - !torch.ReLU {}
  opt: !call b0.get_size
  nested:
    a:
      b:
        - 1
        - 2
      c: {}
      d: []
"""


# ---------------------------------------------------------------------------
# plain values
# ---------------------------------------------------------------------------


def test_plain_values_load_as_python_values() -> None:
    data = yaml.load(
        "a: 1\nb: 2.5\nc: [x, 'y']\nd: {e: null, f: true}\ng: !!str 12\nh: 2020-01-02\n"
    )
    assert data == {
        "a": 1,
        "b": 2.5,
        "c": ["x", "y"],
        "d": {"e": None, "f": True},
        "g": "12",
        "h": datetime.date(2020, 1, 2),
    }
    assert isinstance(data, dict) and type(data["c"]) is list
    # a mapping remembers where each value was written (for errors about its entries)
    assert (data.key_locations["d"].line, data.key_locations["d"].column) == (4, 4)


@pytest.mark.parametrize(
    "value",
    [
        "true",
        "1",
        "null",
        "",
        "1.5",
        "~",
        "a: b",
        "- x",
        "multi\nline",
        " lead",
        "#x",
        "@x",
        "!x",
        "0x10",
        ".inf",
        "1e3",
        "2020-01-01",
    ],
)
def test_strings_that_look_like_other_things_survive(value: str) -> None:
    assert yaml.load(yaml.dump({"k": value}))["k"] == value


def test_floats_round_trip() -> None:
    values = {"big": 1e20, "inf": float("inf"), "ninf": float("-inf"), "one": 1.0, "small": 1e-7}
    back = yaml.load(yaml.dump(values))
    assert back == values and all(isinstance(v, float) for v in back.values())
    assert math.isnan(yaml.load(yaml.dump({"n": float("nan")}))["n"])


def test_merge_keys() -> None:
    data = yaml.load("base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n")
    assert data["derived"] == {"x": 1, "y": 3}


def test_tuple_dumps_as_list() -> None:
    assert yaml.dump({"t": (1, 2)}) == "t:\n  - 1\n  - 2\n"


def test_load_accepts_open_file_and_names_it(tmp_path: Path) -> None:
    path = tmp_path / "conf.yaml"
    path.write_text("!YtB {bkw1: 1}\n")
    with open(path) as handle:
        schema = yaml.load(handle)
    assert schema.location.file == str(path)
    assert schema().bkw1 == 1


def test_dump_writes_to_stream() -> None:
    out = io.StringIO()
    text = yaml.dump({"a": 1}, out)
    assert out.getvalue() == text == "a: 1\n"


def test_load_all_and_dump_all() -> None:
    docs = yaml.load_all("!YtB {bkw1: 1}\n---\n!YtB {bkw1: 2}\n")
    assert [d().bkw1 for d in docs] == [1, 2]
    text = yaml.dump_all(docs)
    assert [d().bkw1 for d in yaml.load_all(text)] == [1, 2]
    assert text.count("---") == 1


def test_load_rejects_several_documents() -> None:
    with pytest.raises(ConfigError) as info:
        yaml.load("a: 1\n---\nb: 2\n")
    assert "2" in info.value.message


def test_unrepresentable_value_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        yaml.dump({"x": object()})
    assert "object" in info.value.message


# ---------------------------------------------------------------------------
# components, schemas and anchors
# ---------------------------------------------------------------------------


def test_anchor_shares_one_schema_and_one_instance() -> None:
    config = yaml.load("first: &b !YtB {bkw1: 1}\nsecond: *b\n")
    assert config["first"] is config["second"]
    assert config["first"]() is config["second"]()


def test_anchor_inside_component_compiles_to_same_instance() -> None:
    model = yaml.load("!yt_model\ndata: &b !YtB {bkw1: 1}\ndepth: *b\n")()
    assert model.data is model.depth
    assert yaml.dump(model).startswith("!yt_model\ndata: &b !YtB\n")


def test_anchor_name_is_kept_only_when_used_twice() -> None:
    assert yaml.dump(yaml.load("a: &b !YtB {bkw1: 1}\n")) == "a: !YtB\n  bkw1: 1\n"


def test_dump_of_compiled_object_adds_defaults_and_normalises() -> None:
    text = "!yt_b\n# a comment\nbkw1: 1\nbkw2: !!str test   # trailing\n"
    obj = yaml.load(text)()
    assert yaml.dump(obj) == "!yt_b\nbkw1: 1\nbkw2: test\nbkw3: 99\n"


def test_object_compiled_in_python_dumps_like_loaded_one() -> None:
    from_code = YtB.compile(bkw1=1, bkw2="test")
    from_yaml = yaml.load("!YtB {bkw1: 1, bkw2: test}")()
    assert yaml.dump(from_code) == "!yt_b\nbkw1: 1\nbkw2: test\nbkw3: 99\n"
    assert yaml.dump(from_yaml) == "!YtB\nbkw1: 1\nbkw2: test\nbkw3: 99\n"


def test_uncompiled_schema_dumps_its_keywords_only() -> None:
    assert yaml.dump(yaml.load("!YtB {bkw1: 1}")) == "!YtB\nbkw1: 1\n"


# ---------------------------------------------------------------------------
# lossless round trip
# ---------------------------------------------------------------------------


def test_round_trip_of_config_is_lossless() -> None:
    first = yaml.dump(yaml.load(ROUND_TRIP))
    assert first == ROUND_TRIP
    assert yaml.dump(yaml.load(first)) == first


def test_round_trip_keeps_loaded_structure() -> None:
    config = yaml.load(ROUND_TRIP)
    b1 = config["b1"]
    assert b1.data is config["b0"]
    assert type(b1.width) is Link and b1.width._created_with_tag == "!@"
    assert b1.height._created_with_tag == "!link" and b1.depth._created_with_tag == "!Link"
    assert type(b1.opt) is FunctionCallLink
    assert b1.made.factory_method == "make"
    assert isinstance(b1.layers[0], Schema)


def test_round_trip_of_compiled_config() -> None:
    config = yaml.load(ROUND_TRIP)
    b0, b1 = config["b0"](), config["b1"]()
    assert (b1.data, b1.width, b1.height, b1.opt, b1.made.size) == (b0, 3, 3, 3, 2)
    assert b1.depth == [
        1,
        2.5,
        {"name": "x", "flag": True, "none": None, "quoted": "true", "empty": ""},
    ]
    text = yaml.dump({"b0": b0, "b1": b1})
    assert "bias: true" in text and "inplace: false" in text  # defaults of torch classes
    assert "width: !@ b0[size]" in text and "opt: !call b0.get_size" in text
    again = yaml.load(text)
    objs = {"b0": again["b0"](), "b1": again["b1"]()}
    assert yaml.dump(objs) == text


def test_python_made_links_dump_with_default_tags() -> None:
    text = yaml.dump({"a": Link(["b0", "x"], ["y"]), "c": FunctionCallLink(["b0"], ["f"])})
    assert text == "a: !@ b0[x].y\nc: !call b0.f\n"


# ---------------------------------------------------------------------------
# extensions header
# ---------------------------------------------------------------------------


def test_load_config_without_header() -> None:
    loaded = yaml.load_config("!YtB {bkw1: 1}\n", file="c.yaml")
    assert loaded.extensions == {} and loaded.file == "c.yaml"
    assert loaded.root().bkw1 == 1


def test_load_config_with_header() -> None:
    text = "yt_ext_mod: ./some/path\ntorch: torch\n---\n!YtB {bkw1: 1}\n"
    loaded = yaml.load_config(text)
    assert loaded.extensions == {"yt_ext_mod": "./some/path", "torch": "torch"}
    assert loaded.extensions_lines == {"yt_ext_mod": 1, "torch": 2}
    assert loaded.text.startswith("!YtB")
    assert loaded.root().bkw1 == 1


def test_config_with_three_documents_is_rejected() -> None:
    with pytest.raises(ConfigError) as info:
        yaml.load_config("a: b\n---\n!YtB {}\n---\n!YtB {}\n", file="three.yaml")
    assert str(info.value.location) == "three.yaml:5:1"


def test_empty_config_is_rejected() -> None:
    with pytest.raises(LoadError):
        yaml.load_config("", file="empty.yaml")


def test_header_needs_locations() -> None:
    with pytest.raises(ConfigError) as info:
        yaml.load_config("yt_ext_mod:\n---\n!YtB {}\n", file="h.yaml")
    assert info.value.location.file == "h.yaml" and info.value.location.line == 1


# ---------------------------------------------------------------------------
# syntax errors and duplicate keys
# ---------------------------------------------------------------------------


def test_invalid_yaml_names_line_and_column() -> None:
    with pytest.raises(YAMLSyntaxError) as info:
        yaml.load("a: 1\nb: [1, 2\nc: 3\n", file="bad.yaml")
    error = info.value
    assert isinstance(error, FlambeError)
    assert error.location.file == "bad.yaml"
    assert (error.location.line, error.location.column) == (3, 2)
    assert str(error).startswith("bad.yaml:3:2: invalid YAML")


def test_bad_indentation_is_syntax_error() -> None:
    with pytest.raises(YAMLSyntaxError) as info:
        yaml.load("a:\n  b: 1\n c: 2\n", file="indent.yaml")
    assert info.value.location.line == 3


def test_duplicate_key() -> None:
    with pytest.raises(ConfigError) as info:
        yaml.load("!YtB\nbkw1: 1\nbkw2: x\nbkw1: 2\n", file="dup.yaml")
    error = info.value
    assert str(error.location) == "dup.yaml:4:1"
    assert "duplicate key 'bkw1'" in error.message and "line 2" in error.message


def test_duplicate_key_in_nested_plain_mapping() -> None:
    with pytest.raises(ConfigError) as info:
        yaml.load("top:\n  inner: {a: 1, a: 2}\n")
    assert (info.value.location.line, info.value.location.column) == (2, 17)
