"""Composing YAML text into nodes: fast, without recursion, and within limits.

The nodes are ruamel.yaml's (what :mod:`flambe.compile.yaml` builds values
from), but they are composed here from a stream of parser events, with an
explicit stack instead of ruamel's recursive composer:

* the events come from libyaml (PyYAML's C parser) when it is installed,
  which parses a 10 MB config in a fraction of the time of the pure-Python
  parser; text libyaml refuses is parsed again by ruamel.yaml, so what is
  accepted and the syntax errors are ruamel.yaml's;
* plain scalars are resolved with the YAML 1.2 rules ruamel.yaml uses
  (``yes`` stays a string);
* an alias is the very node of its anchor (shared, never copied), and an
  alias inside the node it names is refused;
* the *expanded* config, every alias counted as a copy of what it names, may
  hold at most :data:`MAX_NODES` nodes and nest at most :data:`MAX_DEPTH`
  levels: anchors that alias anchors ("billion laughs") or thousands of
  nested brackets are refused with the file, line and column where the
  limit is passed, before anything walks the config.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.tag import Tag

from flambe.errors import ConfigError, SourceLocation, YAMLSyntaxError
from flambe.utils.gcpause import without_gc

Source = str | bytes | IO[str]

MAX_DEPTH = 100
"""Nesting levels a config may have once its aliases are expanded."""

MAX_NODES = 5_000_000
"""Values (scalars, lists and mappings) a config may hold once its aliases are expanded."""

STD = "tag:yaml.org,2002:"
STR = STD + "str"
INT = STD + "int"
FLOAT = STD + "float"
_DEFAULT = {ScalarNode: STD + "str", SequenceNode: STD + "seq", MappingNode: STD + "map"}


class LimitError(ConfigError):
    """A config nests too deeply or expands to too many values."""


class _Resolver:
    """The tag of an untagged scalar or collection, as ruamel.yaml's YAML 1.2 rules give it."""

    def __init__(self) -> None:
        from ruamel.yaml.resolver import VersionedResolver

        table = VersionedResolver(version=(1, 2)).versioned_resolver
        any_rules = [(str(tag), regexp) for tag, regexp in table.get(None, [])]
        # the rules to try for each first character (most strings have none: they stay strings)
        self.rules: dict[Any, list[tuple[str, Any]]] = {
            key: [(str(tag), regexp) for tag, regexp in value] + any_rules
            for key, value in table.items()
            if key is not None
        }
        self.any_rules = any_rules
        self.tags: dict[str, Tag] = {}
        self.cache: dict[str, str] = {}

    def tag(self, text: str) -> Tag:
        """The shared Tag object of a tag string."""
        found = self.tags.get(text)
        if found is None:
            found = self.tags[text] = Tag(suffix=text)
        return found

    def plain(self, value: str) -> str:
        """The tag of a plain (unquoted, untagged) scalar."""
        found = self.cache.get(value)
        if found is not None:
            return found
        rules = self.rules.get(value[:1], self.any_rules)
        if not rules:  # no rule starts with this character: a string
            return STR
        if value.isascii():  # the commonest numbers, as the rules would resolve them
            if value.isdigit():
                return INT
            head, dot, tail = value.partition(".")
            if dot and head.isdigit() and (tail.isdigit() or not tail):
                return FLOAT
        tag = STR
        for rule_tag, regexp in rules:
            if regexp.match(value):
                tag = rule_tag
                break
        if len(value) < 32 and len(self.cache) < 100_000:
            self.cache[value] = tag
        return tag


_RESOLVER: _Resolver | None = None


def _resolver() -> _Resolver:
    global _RESOLVER
    if _RESOLVER is None:
        _RESOLVER = _Resolver()
    return _RESOLVER


def _libyaml_events(text: str) -> Iterable[Any] | None:
    """Return libyaml's event stream of ``text``; None when PyYAML's C parser is missing."""
    try:
        from yaml._yaml import CParser as parser_class
    except ImportError:
        return None
    return _LibyamlEvents(parser_class(text))


class _LibyamlEvents:
    """libyaml's events, iterated without a generator frame per event; disposed of at the end."""

    def __init__(self, parser: Any) -> None:
        self.parser = parser

    def __iter__(self) -> Iterator[Any]:
        return iter(self.parser.get_event, None)  # None once the stream has ended

    def close(self) -> None:
        """Free libyaml's parser."""
        self.parser.dispose()


def _ruamel_events(text: str) -> Iterable[Any]:
    return YAML(typ="rt").parse(text)


class PlainMappingNode(MappingNode):
    """A mapping with nothing special below it: no tag, anchor, alias or merge key.

    The composer gives such a mapping this class (the same slots as
    :class:`MappingNode`), so that building it and checking it can take a
    shorter way: it holds no component, link or search option.
    """

    __slots__ = ()


class PlainSequenceNode(SequenceNode):
    """A list with nothing special below it (see :class:`PlainMappingNode`)."""

    __slots__ = ()


# the tags a scalar of a plain collection may have (resolved, never written)
PLAIN_SCALAR_TAGS = frozenset(STD + kind for kind in ("str", "int", "float", "bool", "null"))
_PLAIN_CLASS = {MappingNode: PlainMappingNode, SequenceNode: PlainSequenceNode}


class _Open:
    """A collection being composed: its node, expanded size and height so far."""

    __slots__ = ("node", "items", "size", "height", "plain")

    def __init__(self, node: Node, plain: bool) -> None:
        self.node = node
        self.items: list[Any] = []
        self.size = 1
        self.height = 1
        self.plain = plain


class _State:
    """Where the composer is: the documents so far, the open collections, the anchors."""

    __slots__ = ("documents", "stack", "top", "push", "full", "anchors", "open_anchors")

    def __init__(self) -> None:
        self.documents: list[Node] = []
        self.stack: list[_Open] = []
        self.top: _Open | None = None  # stack[-1]
        self.push: Any = None  # top.items.append
        self.full = False  # len(stack) >= max_depth: a scalar here would be too deep
        self.anchors: dict[str, tuple[Node, int, int]] = {}
        self.open_anchors: dict[str, Any] = {}

    def focus(self, top: _Open | None, full: bool) -> None:
        """Make ``top`` the collection that receives the next values."""
        self.top = top
        self.push = top.items.append if top is not None else None
        self.full = full


class Composer:
    """Builds the document nodes of one event stream (see the module documentation).

    Parameters
    ----------
    file : str
        The file name used in error locations.
    max_depth, max_nodes : int
        The limits of the expanded config.

    """

    def __init__(self, file: str, max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES) -> None:
        self.file = file
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.resolver = _resolver()

    def _where(self, mark: Any) -> SourceLocation:
        return SourceLocation.from_mark(mark, self.file)

    def _too_big(self, mark: Any, size: int) -> LimitError:
        return LimitError(
            f"the config expands to more than {self.max_nodes:,} values here ({size:,} so far, "
            "every alias counted as a copy of what it names)",
            self._where(mark),
            hint="aliases of anchors that themselves hold aliases multiply the config's size; "
            "write the values out, or link to them with !@ instead of aliasing",
        )

    def _too_deep(self, mark: Any) -> LimitError:
        return LimitError(
            f"the config nests more than {self.max_depth} levels deep here (aliases expanded)",
            self._where(mark),
            hint="flatten the nesting: a config is a tree of a few levels of components and values",
        )

    def _alias(self, event: Any, anchors: dict, open_anchors: dict) -> tuple[Node, int, int]:
        """The node an alias names, with its expanded size and height."""
        name = event.anchor
        if name in open_anchors:
            raise YAMLSyntaxError(
                f"alias '*{name}' is inside the node its anchor '&{name}' names",
                self._where(event.start_mark),
                hint="a value cannot contain itself; use a link (!@) to refer to an earlier value",
            )
        if name not in anchors:
            raise YAMLSyntaxError(
                f"alias '*{name}' names no anchor defined before it",
                self._where(event.start_mark),
                hint=f"define '&{name}' on a value before using '*{name}'",
            )
        return anchors[name]

    def compose(self, events: Iterable[Any]) -> list[Node]:
        """Return the document nodes of an event stream.

        Parameters
        ----------
        events : iterable
            Parser events (libyaml's or ruamel.yaml's); closed at the end when
            they have a ``close`` method.

        Returns
        -------
        list of Node
            One node per document.

        """
        try:
            return self._compose(events)
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()

    def _compose(self, events: Iterable[Any]) -> list[Node]:
        resolver = self.resolver
        tag_of, plain, tags, cache = resolver.tag, resolver.plain, resolver.tags, resolver.cache
        plain_tags = PLAIN_SCALAR_TAGS
        state = _State()
        documents = state.documents
        top, push, full = state.top, state.push, state.full
        max_nodes = self.max_nodes
        new = object.__new__
        node: Any  # a scalar node, built slot by slot
        kinds: dict[type, str] = {}  # event class -> its name (libyaml's and ruamel's differ)
        scalar_class: type | None = None  # the stream's ScalarEvent class, once met
        for event in events:
            cls = type(event)
            if cls is not scalar_class:  # most events are scalars: they skip the lookup
                kind = kinds.get(cls)
                if kind is None:
                    kind = kinds[cls] = cls.__name__
                if kind != "ScalarEvent":
                    self._structure(event, kind, state)
                    top, push, full = state.top, state.push, state.full
                    continue
                scalar_class = cls
            value = event.value
            tag = event.tag
            anchor = event.anchor
            if tag is None or tag == "!":
                tag = (cache.get(value) or plain(value)) if event.implicit[0] else STR
                if top is not None and (anchor is not None or tag not in plain_tags):
                    top.plain = False
            elif top is not None:
                top.plain = False
            node = new(ScalarNode)
            node.ctag = tags.get(tag) or tag_of(tag)
            node.value = value
            node.start_mark = event.start_mark
            node.end_mark = None  # unused: one mark object less per node
            node.comment = None
            node.anchor = anchor
            node.style = event.style
            if anchor is not None:
                state.anchors[anchor] = (node, 1, 1)
            if top is None:
                documents.append(node)
                continue
            if full:
                raise self._too_deep(event.start_mark)
            push(node)
            top.size += 1
            if top.size > max_nodes:
                raise self._too_big(event.start_mark, top.size)
        return documents

    def _structure(self, event: Any, kind: str, state: _State) -> None:
        """Apply an event that is not a scalar: an alias, a collection's start or end."""
        stack = state.stack
        if kind == "AliasEvent":
            node, size, height = self._alias(event, state.anchors, state.open_anchors)
            if len(stack) + height > self.max_depth:
                raise self._too_deep(event.start_mark)
            if state.top is None:
                state.documents.append(node)
                return
            state.top.plain = False  # a shared node: built once, kept as one object
            self._add(state.top, node, size, height, event.start_mark)
        elif kind in ("SequenceStartEvent", "MappingStartEvent"):
            if len(stack) >= self.max_depth:
                raise self._too_deep(event.start_mark)
            top = self._open(event, kind == "MappingStartEvent", state.open_anchors)
            stack.append(top)
            state.focus(top, len(stack) >= self.max_depth)
        elif kind in ("SequenceEndEvent", "MappingEndEvent"):
            done = stack.pop()
            parent = stack[-1] if stack else None
            state.focus(parent, len(stack) >= self.max_depth)
            node = self._close(done, state.anchors, state.open_anchors)
            if parent is None:
                state.documents.append(node)
                return
            if not done.plain:
                parent.plain = False
            self._add(parent, node, done.size, done.height, node.start_mark)
        elif kind == "DocumentStartEvent":
            state.anchors = {}
        # StreamStart/End, DocumentEnd: nothing to build

    def _open(self, event: Any, mapping: bool, open_anchors: dict[str, Any]) -> _Open:
        """Start the collection of a start event (its items come with the next events)."""
        node_cls = MappingNode if mapping else SequenceNode
        node: Any = object.__new__(node_cls)
        tag = event.tag
        written = not (tag is None or tag == "!")
        node.ctag = self.resolver.tag(tag if written else _DEFAULT[node_cls])
        node.start_mark = event.start_mark
        node.end_mark = None
        node.comment = None
        node.anchor = event.anchor
        node.flow_style = event.flow_style
        if mapping:
            node.merge = None
        if event.anchor is not None:
            open_anchors[event.anchor] = True
        return _Open(node, not written and event.anchor is None)

    def _close(self, done: _Open, anchors: dict[str, Any], open_anchors: dict[str, Any]) -> Node:
        """Finish a collection at its end event: its items, anchor and plain class."""
        node: Any = done.node
        items = done.items
        if type(node) is MappingNode:
            node.value = list(zip(items[0::2], items[1::2], strict=True))
        else:
            node.value = items
        if items and done.height < 2:
            done.height = 2  # a collection of scalars
        if node.anchor is not None:
            open_anchors.pop(node.anchor, None)
            anchors[node.anchor] = (node, done.size, done.height)
        if done.plain:
            node.__class__ = _PLAIN_CLASS[type(node)]
        return node

    def _add(self, top: _Open, node: Node, size: int, height: int, mark: Any) -> None:
        """Add a collection or alias of ``size`` values and ``height`` levels to ``top``."""
        top.items.append(node)
        top.size += size
        if height + 1 > top.height:
            top.height = height + 1
        if top.size > self.max_nodes:
            raise self._too_big(mark, top.size)


def compose_text(
    text: str,
    file: str,
    on_syntax_error: Callable[[str], list[Node]],
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
) -> list[Node]:
    """The document nodes of ``text``, composed within the limits.

    Parameters
    ----------
    text : str
        YAML text.
    file : str
        The file name used in error locations.
    on_syntax_error : callable
        Called with ``text`` when neither parser accepts it; raises the
        located syntax error.

    """
    composer = Composer(file, max_depth, max_nodes)
    events = _libyaml_events(text)
    if events is not None:
        try:
            return composer.compose(events)
        except ConfigError:
            raise
        except Exception as exc:  # noqa: BLE001 - libyaml refused it: let ruamel.yaml decide
            if "maximum nesting depth" in str(exc):  # libyaml stops at 1,000 levels
                mark = getattr(exc, "problem_mark", None)
                raise composer._too_deep(mark) from None
    try:
        return composer.compose(_ruamel_events(text))
    except YAMLError:
        return on_syntax_error(text)


_LINE_START = re.compile(r"^", re.M)


def text_offset(text: str, mark: Any) -> int:
    """The index in ``text`` of a node's mark (libyaml counts lines and columns, not bytes)."""
    line, column = getattr(mark, "line", 0), getattr(mark, "column", 0)
    if line == 0:
        return column
    offset = 0
    for _ in range(line):
        offset = text.index("\n", offset) + 1
    return offset + column


def read_source(source: Source, file: str | None) -> tuple[str, str]:
    """Return the text of ``source`` and the file name its errors will name.

    Parameters
    ----------
    source : str, bytes or text stream
        The YAML.
    file : str, optional
        The file name; a stream's own name, else ``<string>``, by default.

    Returns
    -------
    tuple of str
        The text and the file name.

    """
    if hasattr(source, "read"):
        text = source.read()
        file = file or getattr(source, "name", None)
    else:
        text = source
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return str(text), str(file or "<string>")


@without_gc
def compose_all(source: Source, file: str | None = None) -> tuple[list[Node], str]:
    """Parse YAML text into document nodes; syntax errors name file, line and column.

    Parameters
    ----------
    source : str, bytes or text stream
        The YAML.
    file : str, optional
        The file name used in error locations (a stream's own name by default).

    Returns
    -------
    tuple
        The document nodes and the file name used.

    """
    text, name = read_source(source, file)
    return compose_text(text, name, lambda t: _ruamel_compose(t, name)), name


def _ruamel_compose(text: str, name: str) -> list[Node]:
    """ruamel.yaml's own composer: its syntax errors, located, for text no parser accepts."""
    try:
        return list(YAML(typ="rt").compose_all(text))
    except RecursionError:
        raise YAMLSyntaxError(
            "invalid YAML nested too deeply to read",
            SourceLocation(name, 1, 1),
            hint="flatten the nesting",
        ) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        location = SourceLocation.from_mark(mark, name) if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise YAMLSyntaxError(
            f"invalid YAML: {problem}",
            location,
            hint="check indentation, colons and brackets around this place",
        ) from None
    except YAMLError as exc:
        raise YAMLSyntaxError(f"invalid YAML: {exc}", SourceLocation(name, 1, 1)) from None
