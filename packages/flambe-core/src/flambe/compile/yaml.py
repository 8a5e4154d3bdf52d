"""Loading configs from YAML (and, from :mod:`flambe.compile.represent`, dumping them).

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

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from flambe.compile.binding import bind_links
from flambe.compile.compose import (
    PlainMappingNode,
    PlainSequenceNode,
    Source,
    compose_all,
    read_source,
    text_offset,
)
from flambe.compile.overrides import apply_overrides
from flambe.compile.registry import get_registry
from flambe.compile.represent import (  # dumping lives there; these names are kept here too
    Representer as Representer,
)
from flambe.compile.represent import dump as dump
from flambe.compile.represent import dump_all as dump_all
from flambe.compile.represent import dump_for_save as dump_for_save
from flambe.compile.represent import dump_with_extensions as dump_with_extensions
from flambe.compile.represent import find_path as find_path
from flambe.compile.represent import relative_link_path as relative_link_path
from flambe.compile.represent import serialize as serialize
from flambe.errors import ConfigError, FlambeError, LoadError, SourceLocation
from flambe.utils.gcpause import without_gc

logger = logging.getLogger(__name__)

STD = "tag:yaml.org,2002:"
MAP_TAG, SEQ_TAG, STR_TAG = STD + "map", STD + "seq", STD + "str"


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
