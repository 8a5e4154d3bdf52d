"""Binding link roots by lexical scope, and checking that links point backwards.

A link's root names a key of the nearest enclosing mapping that has it. The
thing it points to must be built before the link is resolved: an earlier
stage, an earlier sibling, or something inside one. A link to a later key or
to one of its own parents is rejected here, when the config is loaded, with
the file and line of the link.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from flambe.compile.link import Link
from flambe.compile.schema import Schema
from flambe.compile.tree import LEAF_TYPES, children
from flambe.errors import FlambeError, LinkError, UnpreparedLinkError

PathEntry = tuple[Any, Any]  # (container, key in it)


def _keys(container: Any) -> list[Any] | None:
    if isinstance(container, Schema):
        return list(container.keywords)
    if isinstance(container, Mapping):
        return list(container)
    if isinstance(container, (list, tuple)):
        return list(range(len(container)))
    return None


def _is_scope(container: Any) -> bool:
    return isinstance(container, (Schema, Mapping))


def iter_links(root: Any, skip: Iterable[Any] = ()) -> Iterator[tuple[Link, list[PathEntry]]]:
    """Every link under ``root`` with the path of containers that leads to it.

    Containers in ``skip`` (known to hold no link, such as the plain
    collections of :func:`flambe.compile.yaml.build`) are not walked.
    """
    seen: set = {id(value) for value in skip}

    def walk(value: Any, path: list[PathEntry]) -> Iterator[tuple[Link, list[PathEntry]]]:
        if isinstance(value, Link):
            yield value, path
            return
        if id(value) in seen:
            return
        if isinstance(value, (Schema, Mapping, list, tuple)) or hasattr(value, "_flambe_children"):
            seen.add(id(value))
        for key, child in children(value):
            if type(child) not in LEAF_TYPES:
                yield from walk(child, path + [(value, key)])

    yield from walk(root, [])


def _check_order(link: Link, path: Sequence[PathEntry], depth: int) -> None:
    """Check that the target of a link comes before the link in the config."""
    own = [key for _, key in path[depth:]]
    target: list[Any] = list(link.schematic_path)
    for i, target_key in enumerate(target):
        if i >= len(own):
            raise LinkError(
                f"link '!@ {link.link_str}' points into its own value",
                link._source,
                hint="a link cannot point to itself",
            )
        container = path[depth + i][0]
        keys = _keys(container)
        if keys is None:
            return
        if isinstance(container, (list, tuple)):
            try:
                target_key = int(target_key)
            except ValueError:
                raise LinkError(
                    f"link '!@ {link.link_str}': '{target_key}' is not a list index", link._source
                ) from None
        if target_key not in keys:
            raise LinkError(
                f"could not resolve link '!@ {link.link_str}': no key '{target_key}' "
                "(Check all !@ entries.)",
                link._source,
                hint="available keys here: " + ", ".join(map(str, keys)),
            )
        if target_key == own[i]:
            if i == len(target) - 1:
                raise UnpreparedLinkError(
                    f"link '!@ {link.link_str}' points to its own parent "
                    f"'{_describe(target[: i + 1])}'",
                    link._source,
                    hint="a component cannot use itself or a parent while it is being built; "
                    "link to an earlier stage or an earlier sibling instead",
                )
            continue
        if keys.index(target_key) > keys.index(own[i]):
            raise UnpreparedLinkError(
                f"link '!@ {link.link_str}' points to '{_describe(target[: i + 1])}', which comes "
                f"after '{own[i]}'",
                link._source,
                hint=f"links can only point backwards: move '{target_key}' before '{own[i]}', "
                "or link to something defined earlier",
            )
        return
    # the target path is a strict prefix of the link's own path: an ancestor
    raise UnpreparedLinkError(
        f"link '!@ {link.link_str}' points to its own parent '{_describe(target)}'",
        link._source,
        hint="a component cannot use itself or a parent while it is being built; link to an "
        "earlier stage or an earlier sibling instead",
    )


def _describe(keys: Sequence[Any]) -> str:
    return str(keys[0]) + "".join(f"[{k}]" for k in keys[1:])


def bind_links(
    root: Any,
    globals_: Mapping[str, Any] | None = None,
    errors: list[FlambeError] | None = None,
    strict: bool = False,
    skip: Iterable[Any] = (),
) -> None:
    """Bind every unbound link under ``root`` to the value its root names.

    Parameters
    ----------
    root : Any
        A loaded config (schema, mapping or list).
    globals_ : Mapping, optional
        Values for roots that no enclosing mapping has (resources, ...).
    errors : list, optional
        Collect errors here instead of raising the first one.
    strict : bool
        Treat a root that nothing names as an error (``flambe validate``).
    skip : iterable
        Containers known to hold no link, not walked.

    """
    for link, path in iter_links(root, skip):
        if link.target is not None:
            continue
        try:
            _bind_one(link, path, globals_, strict)
        except FlambeError as exc:
            if errors is None:
                raise
            errors.append(exc)


def _bind_one(
    link: Link, path: Sequence[PathEntry], globals_: Mapping[str, Any] | None, strict: bool
) -> None:
    name = link.schematic_path[0]
    # A root naming the very key the link sits under (`model: !@ model` inside a stage)
    # cannot mean that key: look further out, and report the self-reference only when
    # no enclosing mapping further out has the name.
    self_reference: int | None = None
    for depth in range(len(path) - 1, -1, -1):
        container, own_key = path[depth]
        if _is_scope(container):
            keys = _keys(container) or []
            if name in keys:
                if own_key == name:
                    if self_reference is None:
                        self_reference = depth
                    continue
                _bind_at(link, path, depth)
                return
    if self_reference is not None:
        _bind_at(link, path, self_reference)
        return
    if globals_ is not None and name in globals_:
        link.bind(globals_[name])
        link.local = False
        return
    if strict:
        raise LinkError(
            f"link '!@ {link.link_str}': nothing named '{name}' is defined before it",
            link._source,
            hint="the root of a link must be an earlier stage, a resource, or a keyword of an "
            "enclosing mapping",
        )


def _bind_at(link: Link, path: Sequence[PathEntry], depth: int) -> None:
    """Check the order of a link bound in the scope at ``depth``, then bind it."""
    _check_order(link, path, depth)
    container = path[depth][0]
    name = link.schematic_path[0]
    target = container.keywords[name] if isinstance(container, Schema) else container[name]
    _check_keys(link, target)
    link.bind(target)


def _check_keys(link: Link, target: Any) -> None:
    """Check the bracket keys of a link as far as the config shows them (up to a link)."""
    current = target
    path_keys: list[Any] = link.schematic_path[1:]
    for i, key in enumerate(path_keys, start=1):
        if (
            isinstance(current, Link)
            or not _is_scope(current)
            and not isinstance(current, (list, tuple))
        ):
            return  # known only once compiled
        keys = _keys(current) or []
        if isinstance(current, (list, tuple)):
            try:
                key = int(key)
            except ValueError:
                key = None
        if key not in keys:
            raise LinkError(
                f"could not resolve link '!@ {link.link_str}': no key "
                f"'{link.schematic_path[i]}' under '{_describe(link.schematic_path[:i])}' "
                "(Check all !@ entries.)",
                link._source,
                hint="available keys there: " + (", ".join(map(str, keys)) or "none"),
            )
        current = current.keywords[key] if isinstance(current, Schema) else current[key]
