"""Plain collections (no tag, anchor, alias or merge key below them) take a shorter way.

The composer marks them, the builder makes their values without its checks
per node, and ``flambe validate`` does not walk them looking for components
and links. What comes out must be what the usual way gives.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.nodes import MappingNode, Node, SequenceNode

from flambe.compile.component import Component
from flambe.compile.compose import PlainMappingNode, PlainSequenceNode, compose_all
from flambe.compile.validate import validate_text
from flambe.compile.yaml import Constructor, location_in

TEXT = """\
rows:
  - {id: 1, name: a, score: 0.5, flag: true, none: null, tags: [x, "y", 3]}
  - {id: 2, name: 'b', score: .inf, flag: no, none: ~, tags: []}
hex: [0x1f, 0o17, 1e3, -7, "007"]
tagged: [!!str 5, 1]
anchored: [&a {k: 1}, *a]
merged: {<<: {k: 1}, j: 2}
nested: {plain: {a: [1, 2]}, link: [1, !@ rows]}
"""


class PcModel(Component):
    def __init__(self, rows: Any = None, size: int = 1) -> None:
        self.rows = rows
        self.size = size


def _doc(text: str) -> Node:
    nodes, _ = compose_all(text, "plain.yaml")
    return nodes[0]


def _child(node: Node, key: str) -> Node:
    return next(v for k, v in node.value if k.value == key)


def _unmark(node: Node) -> None:
    """Give every plain node its usual class back, so that building takes the usual way."""
    stack = [node]
    while stack:
        current = stack.pop()
        if type(current) is PlainMappingNode:
            current.__class__ = MappingNode
        elif type(current) is PlainSequenceNode:
            current.__class__ = SequenceNode
        if isinstance(current, MappingNode):
            stack.extend(item for pair in current.value for item in pair)
        elif isinstance(current, SequenceNode):
            stack.extend(current.value)


def test_the_composer_marks_only_collections_with_nothing_special_below() -> None:
    root = _doc(TEXT)
    assert type(root) is MappingNode  # holds tags, anchors, a merge key
    assert type(_child(root, "rows")) is PlainSequenceNode
    assert type(_child(root, "rows").value[0]) is PlainMappingNode
    assert type(_child(root, "hex")) is PlainSequenceNode
    for key in ("tagged", "anchored", "merged", "nested"):
        assert type(_child(root, key)) in (MappingNode, SequenceNode), key
    nested = _child(root, "nested")
    assert type(_child(nested, "plain")) is PlainMappingNode
    assert type(_child(nested, "link")) is SequenceNode


def test_plain_collections_build_to_the_values_of_the_usual_way() -> None:
    fast = Constructor("plain.yaml").construct_object(_doc(TEXT))
    usual_doc = _doc(TEXT)
    _unmark(usual_doc)
    usual = Constructor("plain.yaml").construct_object(usual_doc)
    del fast["nested"]["link"], usual["nested"]["link"]  # unbound links: compared apart
    assert fast == usual
    assert fast["hex"] == [31, 15, 1000.0, -7, "007"]
    assert fast["rows"][1]["flag"] == "no" and fast["rows"][1]["score"] == float("inf")
    assert [type(v) for v in fast["rows"][0].values()] == [
        type(v) for v in usual["rows"][0].values()
    ]
    assert fast["anchored"][0] is fast["anchored"][1]
    # where each value was written is kept, for plain mappings too
    where = location_in(fast["rows"][1], "tags")
    assert (where.file, where.line, where.column) == ("plain.yaml", 3, 62)
    assert location_in(fast["rows"][1], "tags") == location_in(usual["rows"][1], "tags")


def test_the_builder_records_the_outermost_plain_collections() -> None:
    plain: list[Any] = []
    root = Constructor("plain.yaml", plain=plain).construct_object(_doc(TEXT))
    ids = {id(value) for value in plain}
    assert id(root["rows"]) in ids and id(root["hex"]) in ids
    assert id(root["rows"][0]) not in ids  # inside a recorded one
    assert id(root["nested"]["plain"]) in ids
    assert id(root["nested"]) not in ids and id(root["tagged"]) not in ids


def test_a_duplicate_key_in_a_plain_mapping_is_reported_at_its_place() -> None:
    problems = validate_text(
        "!PcModel\nsize: 2\nrows:\n  - {a: 1, b: 2}\n  - {a: 1, a: 2}\n", "dup.yaml"
    )
    assert len(problems) == 1, problems
    assert "duplicate key 'a' (first at line 5)" in problems[0].message
    where = problems[0].location
    assert (where.line, where.column) == (5, 12)


def test_validate_still_finds_what_hides_beside_plain_values() -> None:
    text = (
        "!PcModel\nsize: 2\nrows:\n  - {a: 1, b: [1, 2, 3]}\n"
        "  - [1, {c: !PcModel {sise: 3}}]\n  - {d: !@ nowhere}\n"
    )
    messages = [str(p) for p in validate_text(text, "mixed.yaml")]
    assert any("mixed.yaml:5:" in m and "'sise'" in m for m in messages), messages
    assert any("mixed.yaml:6:" in m and "nowhere" in m for m in messages), messages
