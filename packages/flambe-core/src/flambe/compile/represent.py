"""Dumping objects to YAML: components, schemas, links and anchors as they were written.

:func:`dump` writes an object, schema or plain value back with its tags
(aliases and factories included), links and anchors; :func:`dump_for_save`
writes one object alone for :func:`flambe.save`, its links to things outside
it replaced by their values. :mod:`flambe.compile.yaml` loads what this
writes, and gives these names too.
"""

from __future__ import annotations

import datetime
import io
import math
from collections.abc import Mapping
from typing import IO, Any

from ruamel.yaml import YAML
from ruamel.yaml.anchor import Anchor
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from flambe.compile import bases
from flambe.compile.link import Link, create_link_str
from flambe.compile.registrable import Registrable
from flambe.compile.registry import get_registry
from flambe.compile.schema import Schema
from flambe.errors import ConfigError

STD = "tag:yaml.org,2002:"
MAP_TAG, SEQ_TAG, STR_TAG = STD + "map", STD + "seq", STD + "str"


def yaml_writer() -> YAML:
    """Return a ruamel.yaml instance set up to write configs (wide lines, 2-space indents)."""
    y = YAML(typ="rt")
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def _float_text(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value)
    if "e" in text and "." not in text:
        mantissa, exp = text.split("e")
        text = f"{mantissa}.0e{exp}"
    return text


class Representer:
    """Builds YAML nodes from Python values; passed to ``Registrable.to_yaml``.

    Parameters
    ----------
    save_root : Any, optional
        When dumping one object for saving: links are rewritten relative to it,
        and values from outside it are inlined or put in :attr:`stash`.

    """

    def __init__(self, save_root: Any = None) -> None:
        self._memo: dict[int, Node] = {}
        self._keep: list[Any] = []  # keep objects alive so ids stay unique
        self.save_root = save_root
        self.stash: dict[str, Any] = {}

    # node builders, as ruamel's representers name them
    def represent_scalar(self, tag: str, value: Any) -> ScalarNode:
        """Return a scalar node of ``value`` under ``tag`` (``None`` is written empty)."""
        return ScalarNode(tag, "" if value is None else str(value))

    represent_str = represent_scalar

    def represent_mapping(self, tag: str, mapping: Mapping[Any, Any]) -> MappingNode:
        """Return a mapping node of ``mapping`` under ``tag``, its keys and values represented."""
        node = MappingNode(tag, [], flow_style=False if mapping else True)
        node.value = [(self.represent_data(k), self.represent_data(v)) for k, v in mapping.items()]
        return node

    def represent_sequence(self, tag: str, sequence: Any) -> SequenceNode:
        """Return a sequence node of ``sequence`` under ``tag``, its items represented."""
        items = list(sequence)
        return SequenceNode(
            tag, [self.represent_data(v) for v in items], flow_style=None if items else True
        )

    def represent_data(self, data: Any) -> Node:
        """The node of any representable value (shared objects share one node)."""
        if data is None:
            return ScalarNode(STD + "null", "null")
        if isinstance(data, bool):
            return ScalarNode(STD + "bool", "true" if data else "false")
        if isinstance(data, int):
            return ScalarNode(STD + "int", str(data))
        if isinstance(data, float):
            return ScalarNode(STD + "float", _float_text(data))
        if isinstance(data, str):
            return ScalarNode(STR_TAG, data)
        if isinstance(data, (datetime.date, datetime.datetime)):
            return ScalarNode(STD + "timestamp", data.isoformat())
        key = id(data)
        if key in self._memo:
            return self._memo[key]
        self._keep.append(data)
        node = self._represent_object(data)
        anchor = getattr(data, "_anchor", None)
        if anchor and getattr(node, "anchor", None) is None:
            node.anchor = Anchor()
            node.anchor.value = anchor  # written only if the object is referenced twice
        self._memo[key] = node
        return node

    def _represent_object(self, data: Any) -> Node:
        if isinstance(data, Schema):
            return Schema.to_yaml(self, data)
        if isinstance(data, Link) and self.save_root is not None:
            return self._represent_link_for_save(data)
        tag = getattr(data, "_created_with_tag", None)
        cls = type(data)
        registry = get_registry()
        if isinstance(data, Registrable) or registry.tags_of(cls):
            if tag is None:
                tag = registry.default_tag(cls)
            return cls.to_yaml(self, data, tag)
        if isinstance(data, Mapping):
            return self.represent_mapping(MAP_TAG, data)
        if isinstance(data, (list, tuple)):
            return self.represent_sequence(SEQ_TAG, data)
        if self.save_root is not None:
            return self._stash(data)
        raise ConfigError(
            f"cannot write a {cls.__module__}.{cls.__qualname__} as YAML",
            hint="only registered classes, mappings, lists and plain values can be dumped",
        )

    def represent_link(self, link: Any, tag: str | None) -> ScalarNode:
        """A link as written: its tag (``!@`` by default) and its string."""
        return ScalarNode(tag or "!@", link.link_str)

    # -- saving one object ----------------------------------------------------
    def _stash(self, value: Any) -> ScalarNode:
        obj_id = str(len(self.stash))
        self.stash[obj_id] = value
        return ScalarNode("!$", obj_id)

    def _represent_link_for_save(self, link: Any) -> Node:
        root_schema = getattr(self.save_root, "_schema", None)
        if root_schema is not None and link.target_leaf is not None:
            path = relative_link_path(root_schema, link)
            if path:
                return ScalarNode(
                    link._created_with_tag or "!@", create_link_str(path, link.attr_path)
                )
        value = link() if link.target is not None else link.resolved
        if _is_plain(value) or _is_registrable(value):
            return self.represent_data(value)
        return self._stash(value)


def _is_plain(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_is_plain(k) and _is_plain(v) for k, v in value.items())
    return False


def _is_registrable(value: Any) -> bool:
    """Whether a value can be written with its own tag (components need a config)."""
    if not isinstance(value, Registrable):
        return False
    return hasattr(value, "_saved_kwargs") if _is_component(value) else True


def _is_component(value: Any) -> bool:
    return bases.is_component(value)


def find_path(root: Any, target: Any, exclude: Any = None, follow_links: bool = True) -> list[str]:
    """Keyword path from schema ``root`` down to ``target`` (empty when not below it).

    With ``follow_links``, resolved links on the way are followed to what
    they point to (a keyword ``model: !@ model`` leads into that model),
    except ``exclude``.
    """
    seen: set = set()

    def walk(value: Any, path: list[str]) -> list[str] | None:
        if value is target and path:
            return path
        if isinstance(value, Link):
            if not follow_links or value is exclude or not value.is_resolved:
                return None
            value = value.resolved
        if value is target and path:
            return path
        if bases.is_component(value) and getattr(value, "_schema", None) is not None:
            value = value._schema
            if value is target and path:
                return path
        if id(value) in seen:
            return None
        seen.add(id(value))
        if isinstance(value, Schema):
            items = value.keywords.items()
        elif isinstance(value, Mapping):
            items = value.items()
        elif isinstance(value, (list, tuple)):
            items = ((str(i), v) for i, v in enumerate(value))
        else:
            return None
        for key, child in items:
            found = walk(child, path + [str(key)])
            if found:
                return found
        return None

    return walk(root, []) or []


def relative_link_path(root: Any, link: Any) -> list[str]:
    """The path of ``link``'s target inside schema ``root``, usable in a saved config.

    A path found inside the object's own config is used as is; one found by
    following another link is used only when it starts at a keyword written
    before the link itself (links may only point backwards).
    """
    direct = find_path(root, link.target_leaf, exclude=link, follow_links=False)
    if direct:
        return direct
    path = find_path(root, link.target_leaf, exclude=link)
    own = find_path(root, link, follow_links=False)
    keys = [str(k) for k in root.keywords] if hasattr(root, "keywords") else []
    if (
        path
        and own
        and path[0] in keys
        and own[0] in keys
        and keys.index(path[0]) < keys.index(own[0])
    ):
        return path
    return []


def serialize(nodes: list[Node], stream: IO[str] | None = None) -> str:
    """Write document nodes as YAML text (and to ``stream`` when given)."""
    out = io.StringIO()
    y = yaml_writer()
    if len(nodes) == 1:
        y.serialize(nodes[0], out)
    else:
        y.serialize_all(nodes, out)
    text = out.getvalue()
    if stream is not None:
        stream.write(text)
    return text


def dump(obj: Any, stream: IO[str] | None = None) -> str:
    """Write an object, schema or plain value as YAML; returns the text.

    Tags, aliases, factory tags, links and anchors come back as they were
    loaded; compiled components also list their constructor defaults.
    """
    return serialize([Representer().represent_data(obj)], stream)


def dump_all(objs: list[Any], stream: IO[str] | None = None) -> str:
    """Write several documents."""
    rep = Representer()
    return serialize([rep.represent_data(o) for o in objs], stream)


def dump_with_extensions(obj: Any, extensions: Mapping[str, str]) -> str:
    """Dump ``obj``, preceded by an extensions header document when it has extensions."""
    if not extensions:
        return dump(obj)
    rep = Representer()
    return serialize([rep.represent_data(dict(extensions)), rep.represent_data(obj)])


def dump_for_save(
    obj: Any, extensions: Mapping[str, str] | None = None
) -> tuple[str, dict[str, Any]]:
    """YAML of one object for saving it alone, and the stash of values YAML can't hold."""
    rep = Representer(save_root=obj)
    docs = [rep.represent_data(obj)]
    if extensions:
        docs.insert(0, Representer().represent_data(dict(extensions)))
    return serialize(docs), rep.stash
