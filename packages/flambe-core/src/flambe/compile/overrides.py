"""Command-line overrides of a config: ``flambe run CONFIG key.path=value ...``.

An override changes the YAML tree of a config's main document before any
value is built, so tags, links and every later step see the config as if
it had been written that way:

* ``pipeline.train.optimizer.lr=0.01`` replaces the value at a dotted path
  (list elements by their index: ``pipeline.train.callbacks.0=...``); the
  key must exist;
* ``+pipeline.train.max_steps=10`` adds a key that does not exist yet;
* ``~pipeline.evaluate`` removes a key (or a list element).

The value is parsed as YAML, so ``'model.n_layers=!g [1, 2]'`` is a grid
search and ``'evaluate.model=!@ train.model'`` a link; an empty value
(``key=``) is null. A value shared through a YAML anchor is one object:
replacing it replaces it everywhere its aliases appear.

A path that does not exist is a :class:`~flambe.errors.ConfigError` that
names the override as given and the file, line and column of the mapping
it points into, with the closest keys of that mapping.

Examples
--------
>>> from flambe.compile.overrides import parse_overrides, apply_overrides
>>> apply_overrides(main_node, parse_overrides(["reduce.train=2"]), "exp.yaml")

"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from flambe.compile.compose import compose_all
from flambe.errors import ConfigError, SourceLocation

SET, ADD, REMOVE = "set", "add", "remove"
MERGE_TAG = "tag:yaml.org,2002:merge"
NULL_TAG = "tag:yaml.org,2002:null"

OVERRIDE_HELP = (
    "KEY=VALUE overrides change the config before it is loaded: 'a.b=1' replaces a value "
    "(the value is YAML: tags and links work), '+a.c=2' adds a key, '~a.b' removes one; "
    "list elements by index ('a.0=...')."
)


@dataclass(frozen=True)
class Override:
    """One command-line override, parsed.

    Attributes
    ----------
    text : str
        The override as given on the command line.
    op : str
        ``"set"``, ``"add"`` (``+key=value``) or ``"remove"`` (``~key``).
    path : tuple of str
        The keys (or list indices, as written) from the root of the main document.
    value : str or None
        The YAML text of the new value (None for a removal).

    """

    text: str
    op: str
    path: tuple[str, ...]
    value: str | None = None

    @property
    def source(self) -> str:
        """The name errors use for the value's own YAML text (``override 'a.b=1'``)."""
        return f"override '{self.text}'"


def parse_override(text: str) -> Override:
    """Parse one ``key.path=value``, ``+key.path=value`` or ``~key.path``.

    Raises
    ------
    ConfigError
        Without ``=`` (except a removal), or with an empty key or path segment.

    """
    op, body = SET, text
    if text.startswith("+"):
        op, body = ADD, text[1:]
    elif text.startswith("~"):
        op, body = REMOVE, text[1:]
    if op == REMOVE:
        key, value = body.split("=", 1)[0], None
    elif "=" not in body:
        raise ConfigError(
            f"override '{text}' has no '=': write key.path=value",
            hint="'+key=value' adds a key, '~key' removes one; a config file is the first "
            "argument, the overrides come after it",
        )
    else:
        key, value = body.split("=", 1)
    path = tuple(key.strip().split("."))
    if not key.strip() or any(not part for part in path):
        raise ConfigError(
            f"override '{text}': '{key}' is not a dotted path of keys",
            hint="e.g. pipeline.train.optimizer.lr=0.01 (keys joined by dots, list elements "
            "by their index)",
        )
    return Override(text, op, path, value)


def parse_overrides(texts: Iterable[str]) -> list[Override]:
    """Parse every override (see :func:`parse_override`), in order."""
    return [parse_override(text) for text in texts]


class OverrideMark:
    """Where a node of an override's value was written: its own text, not the config file.

    :class:`~flambe.compile.yaml.Constructor` names ``file`` in the errors
    of such a node (an unknown tag, argument or link in the value).
    """

    __slots__ = ("file", "name", "line", "column", "index")

    def __init__(self, file: str, line: int = 0, column: int = 0) -> None:
        self.file = self.name = file
        self.line, self.column, self.index = line, column, 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line + 1}:{self.column + 1}"


def _value_node(override: Override) -> Node:
    """The YAML node of an override's value, composed on its own."""
    text = override.value or ""
    nodes, _ = compose_all(text, override.source) if text.strip() else ([], "")
    if len(nodes) > 1:
        raise ConfigError(
            f"override '{override.text}': the value holds {len(nodes)} YAML documents",
            SourceLocation(override.source, 1, 1),
            hint="give a single value",
        )
    node = nodes[0] if nodes else ScalarNode(NULL_TAG, "")
    for child in _walk(node):
        mark = child.start_mark
        child.start_mark = OverrideMark(
            override.source, getattr(mark, "line", 0), getattr(mark, "column", 0)
        )
    return node


class _Applier:
    """Applies overrides to the nodes of one document, remembering where each node came from."""

    def __init__(self, root: Node, file: str) -> None:
        self.root = root
        self.file = file

    def location(self, node: Node) -> SourceLocation:
        mark = node.start_mark
        return SourceLocation.from_mark(mark, getattr(mark, "file", None) or self.file)

    def fail(self, override: Override, node: Node, message: str, hint: str) -> ConfigError:
        return ConfigError(f"override '{override.text}': {message}", self.location(node), hint)

    # -- walking -----------------------------------------------------------------
    def _pairs(self, node: MappingNode) -> list[tuple[Node, Node]]:
        """Own key/value pairs first, then those of merged mappings (``<<: *base``)."""
        own, merged = [], []
        for key, value in node.value:
            if key.tag == MERGE_TAG and key.value == "<<":
                for item in value.value if isinstance(value, SequenceNode) else [value]:
                    if isinstance(item, MappingNode):
                        merged.extend(self._pairs(item))
            else:
                own.append((key, value))
        return own + merged

    def _own_index(self, node: MappingNode, key: str) -> int | None:
        for i, (key_node, _) in enumerate(node.value):
            if isinstance(key_node, ScalarNode) and key_node.value == key and key != "<<":
                return i
        return None

    def _lookup(self, node: MappingNode, key: str) -> Node | None:
        for key_node, value in self._pairs(node):
            if isinstance(key_node, ScalarNode) and key_node.value == key:
                return value
        return None

    def _index(self, override: Override, node: SequenceNode, part: str, where: str) -> int:
        try:
            index = int(part)
        except ValueError:
            raise self.fail(
                override,
                node,
                f"{where} is a list: '{part}' must be an index",
                f"give a number from 0 to {len(node.value) - 1}",
            ) from None
        if not -len(node.value) <= index < len(node.value):
            raise self.fail(
                override,
                node,
                f"index {index} is out of the list {where} ({len(node.value)} elements)",
                f"give a number from 0 to {len(node.value) - 1}"
                if node.value
                else "the list is empty",
            )
        return index % len(node.value)

    def _unknown_key(self, override: Override, node: MappingNode, key: str, where: str) -> Any:
        keys = [str(k.value) for k, _ in self._pairs(node) if isinstance(k, ScalarNode)]
        close = difflib.get_close_matches(key, keys, n=3, cutoff=0.6)
        if close:
            hint = "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
        elif keys:
            hint = "the keys there are: " + ", ".join(keys)
        else:
            hint = "the mapping is empty"
        if override.op == SET and key == override.path[-1]:
            hint += f" (to add the key, write '+{'.'.join(override.path)}=...')"
        return self.fail(override, node, f"no key '{key}' in {where}", hint)

    def _parent(self, override: Override) -> Node:
        """The node the last key of ``override.path`` lives in."""
        node = self.root
        for depth, part in enumerate(override.path[:-1]):
            where = _describe(override.path[:depth])
            if isinstance(node, MappingNode):
                child = self._lookup(node, part)
                if child is None:
                    raise self._unknown_key(override, node, part, where)
                node = child
            elif isinstance(node, SequenceNode):
                node = node.value[self._index(override, node, part, where)]
            else:
                raise self.fail(
                    override,
                    node,
                    f"{where} is a single value ({node.value!r}), not a mapping or a list: it "
                    f"has no '{part}'",
                    f"override the value itself: {'.'.join(override.path[:depth]) or 'key'}=...",
                )
        return node

    # -- the three operations ------------------------------------------------------
    def apply(self, override: Override) -> None:
        parent = self._parent(override)
        last = override.path[-1]
        where = _describe(override.path[:-1])
        if isinstance(parent, SequenceNode):
            if override.op == ADD:
                raise self.fail(
                    override,
                    parent,
                    f"{where} is a list: '+' adds keys to mappings",
                    f"replace the whole list instead: {'.'.join(override.path[:-1])}=[...]",
                )
            index = self._index(override, parent, last, where)
            if override.op == REMOVE:
                del parent.value[index]
            else:
                old = parent.value[index]
                parent.value[index] = new = self._new(override)
                self._replace(old, new)
            return
        if not isinstance(parent, MappingNode):
            raise self.fail(
                override,
                parent,
                f"{where} is a single value ({parent.value!r}), not a mapping or a list",
                "override the value itself: " + ".".join(override.path[:-1]) + "=...",
            )
        own = self._own_index(parent, last)
        found = self._lookup(parent, last)
        if override.op == REMOVE:
            if own is None:
                if found is not None:
                    raise self.fail(
                        override,
                        parent,
                        f"'{last}' comes from a merged mapping ('<<') in {where}",
                        "remove it where the merged mapping is written",
                    )
                raise self._unknown_key(override, parent, last, where)
            del parent.value[own]
        elif override.op == ADD:
            if found is not None:
                raise self.fail(
                    override,
                    parent,
                    f"{where} has a key '{last}' already",
                    f"replace its value without the '+': {override.text[1:]}",
                )
            parent.value.append((self._key(last, override), self._new(override)))
        elif found is None:
            raise self._unknown_key(override, parent, last, where)
        elif own is None:  # set a key that comes from a merge: this mapping's own value wins
            parent.value.append((self._key(last, override), self._new(override)))
        else:
            key, old = parent.value[own]
            parent.value[own] = (key, new := self._new(override))
            self._replace(old, new)

    def _key(self, text: str, override: Override) -> ScalarNode:
        return ScalarNode("tag:yaml.org,2002:str", text, start_mark=OverrideMark(override.source))

    def _new(self, override: Override) -> Node:
        return _value_node(override)

    def _replace(self, old: Node, new: Node) -> None:
        """Put ``new`` wherever else ``old`` appears: an anchored node is shared by its aliases.

        (A node without an anchor appears once: in the place already replaced.)
        """
        if old.anchor is None:
            return
        if new.anchor is None:
            new.anchor = old.anchor
        for node in _walk(self.root):
            if isinstance(node, MappingNode):
                node.value = [(k, new if v is old else v) for k, v in node.value]
            elif isinstance(node, SequenceNode):
                node.value = [new if v is old else v for v in node.value]


def _walk(root: Node) -> list[Node]:
    """Every node under ``root`` (itself included), each once."""
    found: list[Node] = []
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        found.append(node)
        if isinstance(node, MappingNode):
            for key, value in node.value:
                stack.extend((key, value))
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    return found


def _describe(path: Sequence[str]) -> str:
    return f"'{'.'.join(path)}'" if path else "the top level of the config"


def apply_overrides(root: Node, overrides: Iterable[Override | str], file: str) -> Node:
    """Apply overrides, in order, to the node of a config's main document.

    Parameters
    ----------
    root : Node
        The main document's node (see :func:`flambe.compile.yaml.split_config`);
        changed in place.
    overrides : iterable of Override or str
        Parsed overrides, or their command-line text.
    file : str
        The config file, named by the errors.

    Returns
    -------
    Node
        The root node (a new one only when an override replaced the whole document).

    Raises
    ------
    ConfigError
        A malformed override, a path that does not exist (naming the override
        and the file, line and column of the mapping it points into, with
        the closest keys), or a value that is not YAML.

    """
    applier = _Applier(root, file)
    for override in overrides:
        if isinstance(override, str):
            override = parse_override(override)
        applier.apply(override)
    return applier.root


def override_text(overrides: Sequence[Override | str]) -> list[str]:
    """The command-line text of each override (for messages and records)."""
    return [o.text if isinstance(o, Override) else o for o in overrides]


def overrides_argument(function: Callable[..., Any]) -> Callable[..., Any]:
    """Click decorator: the ``[KEY=VALUE]...`` arguments after CONFIG, passed as ``overrides``.

    Examples
    --------
    >>> @click.command()
    ... @click.argument("config")
    ... @overrides_argument
    ... def plan(config: str, overrides: tuple[str, ...]) -> None: ...

    """
    import click

    return click.argument("overrides", nargs=-1, metavar="[KEY=VALUE]...")(function)
