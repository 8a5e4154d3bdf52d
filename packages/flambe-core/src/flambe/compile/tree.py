"""Walking a config tree: one definition of what a node's children are.

A loaded config is a tree of :class:`~flambe.compile.schema.Schema` nodes
(their keywords), mappings and lists, with leaves (strings, numbers,
links, ...) and a few custom nodes (search options) that list their own
children with ``_flambe_children()``. Every walk of a config in core (link
binding, validation, variant expansion, the modules Ray workers import, the
options a run draws) goes through :func:`items` or :func:`children` here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from flambe.compile.schema import Schema

LEAF_TYPES = frozenset({str, int, float, bool, type(None)})


def items(value: Any) -> list[tuple[Any, Any]] | None:
    """The (key, child) pairs of a container (Schema, mapping, list or tuple).

    Parameters
    ----------
    value : Any
        A node of a config tree.

    Returns
    -------
    list of (key, child) or None
        ``None`` for anything that is not a container, custom nodes included.

    """
    if isinstance(value, Schema):
        return list(value.keywords.items())
    if isinstance(value, Mapping):
        return list(value.items())
    if isinstance(value, (list, tuple)):
        return list(enumerate(value))
    return None


def children(value: Any) -> Iterator[tuple[Any, Any]]:
    """The (key, child) pairs of a node: a container's items or a custom node's children.

    Parameters
    ----------
    value : Any
        A node of a config tree.

    Returns
    -------
    iterator of (key, child)
        Empty for leaves.

    """
    kind = type(value)
    if kind in LEAF_TYPES:
        return iter(())
    if kind is dict:
        return iter(value.items())
    if kind is list or kind is tuple:
        return enumerate(value)
    found = items(value)
    if found is not None:
        return iter(found)
    custom = getattr(value, "_flambe_children", None)
    if callable(custom) and not isinstance(value, type):
        return iter(custom())
    return iter(())


def walk(value: Any) -> Iterator[Any]:
    """Every node of a tree, parents before children, each object once.

    Parameters
    ----------
    value : Any
        The root.

    Returns
    -------
    iterator
        The nodes, depth first.

    """
    seen: set[int] = set()
    kept: list[Any] = []  # what was seen stays alive, so no id is reused during the walk
    stack = [value]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        kept.append(node)
        yield node
        stack.extend(reversed([child for _, child in children(node)]))


def rebuild(value: Any, new_items: Sequence[tuple[Any, Any]]) -> Any:
    """A container like ``value`` holding ``new_items`` (Schemas keep their tag and source).

    Parameters
    ----------
    value : Any
        A container (as :func:`items` accepts).
    new_items : sequence of (key, child)
        Its new content.

    Returns
    -------
    Any
        A new Schema, dict or list.

    """
    if isinstance(value, Schema):
        new = Schema(value.component_subclass, value.factory_method, **dict(new_items))
        for attr in ("_created_with_tag", "_source", "_key_locations", "_extensions"):
            setattr(new, attr, getattr(value, attr))
        return new
    if isinstance(value, Mapping):
        return dict(new_items)
    return [v for _, v in new_items]
