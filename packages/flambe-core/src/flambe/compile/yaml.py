"""Loading configs from YAML and dumping objects back to it.

ruamel.yaml parses the text into nodes; this module builds the values
itself, so that every error can name the file, line and column of the node
involved, anchors (``&a``/``*a``) become one shared object, and tags are
looked up lazily in the tag registry. Dumping builds nodes the same way and
writes back the tags (aliases and factories included), links and anchors as
they were written.

Examples
--------
>>> from flambe.compile import yaml
>>> schema = yaml.load(open("model.yaml"))
>>> model = schema()
>>> text = yaml.dump(model)
"""

from __future__ import annotations

import datetime
import io
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from ruamel.yaml import YAML
from ruamel.yaml.anchor import Anchor
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from flambe.compile import bases
from flambe.compile.binding import bind_links
from flambe.compile.compose import (
    PlainMappingNode,
    PlainSequenceNode,
    Source,
    compose_all,
    read_source,
    text_offset,
)
from flambe.compile.link import Link, create_link_str
from flambe.compile.overrides import apply_overrides
from flambe.compile.registrable import Registrable
from flambe.compile.registry import get_registry
from flambe.compile.schema import Schema
from flambe.errors import ConfigError, FlambeError, LoadError, SourceLocation
from flambe.utils.gcpause import without_gc

logger = logging.getLogger(__name__)

STD = "tag:yaml.org,2002:"
MAP_TAG, SEQ_TAG, STR_TAG = STD + "map", STD + "seq", STD + "str"


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    return y


# ---------------------------------------------------------------------------
# building values from nodes
# ---------------------------------------------------------------------------


class Invalid:
    """Placeholder for a node that failed to load while collecting every error."""

    def __init__(self, error: FlambeError) -> None:
        self.error = error

    def __repr__(self) -> str:
        return f"<invalid: {self.error.message}>"


def _int(text: str) -> int:
    if text.isdigit() or (text[:1] in "-+" and text[1:].isdigit()):
        return int(text)
    raise ValueError(text)


def _float(text: str) -> float:
    if text[:1] == "." or "_" in text or text[-1:].isalpha():
        raise ValueError(text)
    return float(text)


_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}


def _bool(text: str) -> bool:
    try:
        return _BOOLS[text]
    except KeyError:
        raise ValueError(text) from None


# plain scalars built without ruamel.yaml's constructor, for speed (the same values)
_FAST_SCALARS = {
    STD + "int": _int,
    STD + "float": _float,
    STD + "bool": _bool,
    STD + "null": lambda text: None,
}


class LocatedDict(dict):
    """A plain mapping of a config, which remembers where each of its values was written.

    Attributes
    ----------
    key_locations : dict
        Key to the :class:`~flambe.errors.SourceLocation` of its value (made
        from the parser's marks the first time it is read).

    """

    _file = "<string>"
    _marks: dict[Any, Any] = {}

    @property
    def key_locations(self) -> dict[Any, SourceLocation]:
        """Key to the place its value was written."""
        found = self.__dict__.get("_key_locations")
        if found is None:
            file = self._file
            found = {key: mark_location(file, mark) for key, mark in self._marks.items()}
            self.__dict__["_key_locations"] = found
        return found

    @key_locations.setter
    def key_locations(self, value: dict[Any, SourceLocation]) -> None:
        self.__dict__["_key_locations"] = value

    def location_of(self, key: Any) -> SourceLocation | None:
        """Where the value of ``key`` was written (None when unknown)."""
        return self.key_locations.get(key)


def mark_location(file: str, mark: Any) -> SourceLocation:
    """The location of a parser mark (0-based) in ``file``.

    Parameters
    ----------
    file : str
        The file the mark is in; a command-line override's mark names its own.
    mark : mark or None
        A libyaml, ruamel.yaml or override mark.

    Returns
    -------
    SourceLocation
        1-based line and column.

    """
    if mark is None:
        return SourceLocation.from_mark(mark, file)
    # a node of a command-line override names the override (flambe.compile.overrides)
    if type(mark).__name__ == "OverrideMark":
        file = mark.file
    return SourceLocation(file, mark.line + 1, mark.column + 1)


class _NotPlain(Exception):
    """A collection marked plain needs the usual way after all (to report a duplicate key)."""


def location_in(mapping: Any, key: Any) -> SourceLocation | None:
    """Where the value of ``key`` was written in a mapping loaded from YAML (None otherwise)."""
    return getattr(mapping, "key_locations", {}).get(key)


class Constructor:
    """Builds Python values from YAML nodes; passed to ``Registrable.from_yaml``.

    Parameters
    ----------
    file : str
        The file name used in error locations.
    errors : list, optional
        When given, errors are collected here and loading goes on.

    """

    def __init__(
        self,
        file: str = "<string>",
        errors: list[FlambeError] | None = None,
        plain: list[Any] | None = None,
    ) -> None:
        self.file = file
        self.errors = errors
        self.plain = plain
        self._memo: dict[int, Any] = {}
        self._safe = YAML(typ="safe", pure=True).constructor

    def location(self, node: Node) -> SourceLocation:
        """Where ``node`` starts in the file."""
        return mark_location(self.file, node.start_mark)

    def construct_object(self, node: Node) -> Any:
        """Build the value of any node (memoised, so anchors share one object)."""
        kind = type(node)
        if kind is PlainMappingNode or kind is PlainSequenceNode:
            try:
                value = self._plain(node)
            except _NotPlain:
                pass  # built the usual way below, which reports the problem
            else:
                if self.plain is not None:
                    self.plain.append(value)
                return value
        if kind is ScalarNode and node.anchor is None:
            suffix = node.ctag.suffix
            if suffix == STR_TAG:
                return node.value  # the most common value: a plain string
            fast = _FAST_SCALARS.get(suffix)
            if fast is not None:
                try:
                    return fast(node.value)
                except ValueError:  # another spelling (0x1f, .inf...): ruamel.yaml's rules
                    pass
        key = id(node)
        if key in self._memo:
            return self._memo[key]
        try:
            value = self._construct(node)
        except FlambeError as exc:
            exc.at(self.location(node))
            if self.errors is None:
                raise
            self.errors.append(exc)
            value = Invalid(exc)
        if node.anchor is not None:  # only an anchored node can be met again (its aliases)
            self._memo[key] = value
        return value

    def _construct(self, node: Node) -> Any:
        tag = node.tag or ""
        if tag.startswith(STD) or tag in ("", "?"):
            if isinstance(node, MappingNode):
                return self.construct_mapping(node)
            if isinstance(node, SequenceNode):
                return self.construct_sequence(node)
            return self._safe.construct_object(node, deep=True)
        if tag == "!":  # non-specific tag: a plain string
            return str(node.value)
        resolved = get_registry().resolve(tag, self.location(node))
        value = resolved.cls.from_yaml(self, node, resolved.factory)
        for attr, attr_value in (("_created_with_tag", tag), ("_source", self.location(node))):
            try:
                if attr == "_created_with_tag" or getattr(value, attr, None) is None:
                    setattr(value, attr, attr_value)
            except (AttributeError, TypeError):
                pass
        if node.anchor and hasattr(value, "_anchor"):
            value._anchor = node.anchor
        return value

    def _plain(self, node: Node) -> Any:
        """Build a plain collection: only scalars of the core tags and plain collections below.

        The values are those :meth:`construct_object` gives, without its checks
        per node (no tag to resolve, nothing shared). A duplicate key raises
        :class:`_NotPlain`, so that the usual way reports it.
        """
        fast, file, safe = _FAST_SCALARS, self.file, self._safe

        def build(child: Node) -> Any:
            kind = type(child)
            if kind is ScalarNode:
                suffix = child.ctag.suffix
                if suffix == STR_TAG:
                    return child.value
                try:
                    return fast[suffix](child.value)
                except ValueError:  # another spelling (0x1f, .inf...): ruamel.yaml's rules
                    return safe.construct_object(child, deep=True)
            if kind is PlainSequenceNode:
                return [build(item) for item in child.value]
            result = LocatedDict()
            marks: dict[Any, Any] = {}
            for key_node, value_node in child.value:
                if type(key_node) is not ScalarNode:
                    raise _NotPlain
                key = build(key_node)
                if key in marks:
                    raise _NotPlain
                marks[key] = value_node.start_mark
                result[key] = build(value_node)
            result._marks = marks
            result._file = file
            return result

        return build(node)

    def construct_scalar(self, node: Node) -> Any:
        """The scalar value of a node, as a string (``None`` for an empty node)."""
        if not isinstance(node, ScalarNode):
            raise ConfigError(
                f"expected a single value after {node.tag}, found a "
                f"{'mapping' if isinstance(node, MappingNode) else 'list'}",
                self.location(node),
            )
        return node.value

    def construct_sequence(self, node: Node) -> list[Any]:
        """A list of built values."""
        if not isinstance(node, SequenceNode):
            raise ConfigError(f"expected a list after {node.tag}", self.location(node))
        return [self.construct_object(child) for child in node.value]

    def construct_mapping(self, node: Node) -> dict[Any, Any]:
        """A dict of built values (``<<`` merge keys honoured, duplicate keys rejected).

        The dict is a :class:`LocatedDict`: it knows where each of its values was written.
        """
        result = LocatedDict()
        result._marks = self._mapping(node, result)[1]
        result._file = self.file
        return result

    def _mapping(
        self, node: Node, result: dict[Any, Any] | None = None
    ) -> tuple[dict[Any, Any], dict[Any, Any]]:
        """Build a mapping node into ``result``; return it and the mark of each key's value."""
        if not isinstance(node, MappingNode):
            raise ConfigError(f"expected a mapping after {node.tag}", self.location(node))
        result = {} if result is None else result
        marks: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.value == "<<" and key_node.tag == STD + "merge":
                merged = self.construct_object(value_node)
                for item in merged if isinstance(merged, list) else [merged]:
                    if isinstance(item, Mapping):
                        for k, v in item.items():
                            result.setdefault(k, v)
                continue
            key = self.construct_object(key_node)
            if isinstance(key, (list, dict)):
                raise ConfigError("a mapping key must be a single value", self.location(key_node))
            if key in marks:
                first = mark_location(self.file, marks[key])
                raise ConfigError(
                    f"duplicate key '{key}' (first at line {first.line})",
                    self.location(key_node),
                    hint="remove or rename one of them",
                )
            marks[key] = value_node.start_mark
            result[key] = self.construct_object(value_node)
        return result, marks

    def construct_keywords(self, node: Node, cls: type, with_locations: bool = False) -> Any:
        """Keyword arguments for ``cls`` from a node: a mapping, or nothing for a scalar.

        A non-empty scalar after a component tag (``!A 5``) is ignored with a warning.
        """
        if isinstance(node, ScalarNode):
            if node.value not in ("", "~", "null", "Null", "NULL"):
                logger.warning(
                    "%s: the value %r after %s is ignored (a component takes a mapping "
                    "of keyword arguments)",
                    self.location(node),
                    node.value,
                    node.tag,
                )
            return ({}, {}) if with_locations else {}
        if isinstance(node, SequenceNode):
            raise ConfigError(
                f"{node.tag} takes a mapping of keyword arguments, not a list",
                self.location(node),
                hint=f"write the arguments as 'name: value' lines under {node.tag}",
            )
        keywords, marks = self._mapping(node)
        bad = [k for k in keywords if not isinstance(k, str)]
        if bad:
            raise ConfigError(
                f"argument names must be strings, got {bad[0]!r}", self.location(node)
            )
        if not with_locations:
            return keywords
        return keywords, {key: mark_location(self.file, mark) for key, mark in marks.items()}


# ---------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------


@dataclass
class LoadedConfig:
    """A config file: its optional extensions header and its main object.

    Parameters
    ----------
    extensions : dict
        Module name to location, from the header document (empty without one).
    root : Any
        The main object, usually a :class:`~flambe.compile.schema.Schema`.
    file : str
        The file name.
    text : str
        The text of the main document.
    extensions_lines : dict
        The line of each extension entry in the file.

    """

    extensions: dict[str, str]
    root: Any
    file: str
    text: str = ""
    extensions_lines: dict[str, int] = field(default_factory=dict)


@without_gc
def build(
    node: Node,
    file: str,
    errors: list[FlambeError] | None = None,
    bind: bool = True,
    plain: list[Any] | None = None,
) -> Any:
    """Build the value of a document node and bind its links.

    Parameters
    ----------
    node : Node
        The document node.
    file : str
        The file name used in error locations.
    errors : list, optional
        Collect errors here and go on, instead of raising the first one.
    bind : bool
        Bind the links.
    plain : list, optional
        Receives the plain collections built (lists and mappings holding no
        tag, link or alias at any depth), which walks looking for components,
        links or options may skip.

    Returns
    -------
    Any
        The value.

    """
    root = Constructor(file, errors, plain).construct_object(node)
    if bind:
        bind_links(root, errors=errors)
    return root


@without_gc
def load(source: Source, file: str | None = None) -> Any:
    """Load one YAML document: components come back as schemas, ready to compile.

    Parameters
    ----------
    source : str, bytes or file
        YAML text or an open file.
    file : str, optional
        The name used in error messages (an open file's own name otherwise).

    """
    nodes, name = compose_all(source, file)
    if len(nodes) != 1:
        raise ConfigError(
            f"expected one YAML document, found {len(nodes)}",
            SourceLocation(name, 1, 1),
            hint="use load_config for a config with an extensions header",
        )
    return build(nodes[0], name)


@without_gc
def load_all(source: Source, file: str | None = None) -> list[Any]:
    """Load every document of a YAML stream."""
    nodes, name = compose_all(source, file)
    return [build(n, name) for n in nodes]


def split_config(
    source: Source, file: str | None = None
) -> tuple[dict[str, str], dict[str, int], Node, str]:
    """Parse a config into its extensions header and the node of its main document."""
    nodes, name = compose_all(source, file)
    if not nodes:
        raise LoadError(
            f"{name}: no config found (the file is empty)",
            hint="write one object, e.g. '!Experiment ...'",
        )
    if len(nodes) > 2:
        raise ConfigError(
            f"a config holds at most two YAML documents (extensions, then the object); "
            f"found {len(nodes)}",
            SourceLocation.from_mark(nodes[2].start_mark, name),
            hint="remove the extra '---' separators",
        )
    extensions: dict[str, str] = {}
    lines: dict[str, int] = {}
    if len(nodes) == 2:
        header = nodes[0]
        if not isinstance(header, MappingNode) or (header.tag and not header.tag.startswith(STD)):
            raise ConfigError(
                "the first document of a two-document config must map extension "
                "modules to locations ('my_ext: path/to/package')",
                SourceLocation.from_mark(header.start_mark, name),
            )
        for key_node, value_node in header.value:
            if not isinstance(value_node, ScalarNode) or not str(value_node.value).strip():
                raise ConfigError(
                    f"extension '{key_node.value}' needs a location (a path, a pip "
                    "requirement or a VCS URL)",
                    # an empty value starts on the next line: point at the key
                    SourceLocation.from_mark(key_node.start_mark, name),
                )
            extensions[str(key_node.value)] = str(value_node.value)
            lines[str(key_node.value)] = key_node.start_mark.line + 1
    main = nodes[-1]
    return extensions, lines, main, name


@without_gc
def load_config(
    source: Source,
    file: str | None = None,
    errors: list[FlambeError] | None = None,
    overrides: Sequence[Any] = (),
) -> LoadedConfig:
    """Load a config file: the optional extensions header, then the main object.

    The extension modules must be importable before the main document is
    built (see :func:`flambe.compile.extensions.ensure_extensions`); this
    function registers their namespaces but installs nothing. ``overrides``
    (``key.path=value`` strings, see :mod:`flambe.compile.overrides`) change
    the main document before anything is built.
    """
    text, name = read_source(source, file)
    extensions, lines, main, name = split_config(text, name)
    if overrides:
        main = apply_overrides(main, overrides, name)
    if extensions:
        registry = get_registry()
        for module in extensions:
            registry.add_module_namespace(module)
    root = build(main, name, errors)
    if extensions and hasattr(root, "add_extensions_metadata"):
        root.add_extensions_metadata(extensions)
    main_text = text if not extensions else text[_document_start(text, main) :]
    return LoadedConfig(extensions, root, name, main_text, lines)


def _document_start(text: str, node: Node) -> int:
    return text_offset(text, node.start_mark) if node.start_mark is not None else 0


# ---------------------------------------------------------------------------
# dumping
# ---------------------------------------------------------------------------


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
    y = _yaml()
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
