"""Checking a config without running it (``flambe validate``).

Every problem is collected rather than stopping at the first: YAML syntax,
missing extensions, unknown tags, malformed links, links that point forward
or to a parent, link roots that name nothing, and constructor arguments that
do not fit the signatures of the classes they are given to.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flambe.compile.binding import bind_links
from flambe.compile.component import check_arguments
from flambe.compile.extensions import ensure_extensions
from flambe.compile.overrides import apply_overrides
from flambe.compile.registry import get_registry
from flambe.compile.schema import Schema
from flambe.compile.tree import LEAF_TYPES, children
from flambe.compile.yaml import build, split_config
from flambe.errors import FlambeError, SourceLocation
from flambe.utils.gcpause import without_gc


def iter_schemas(root: Any, skip: Iterable[Any] = ()) -> list[Schema]:
    """Return every schema under ``root`` (depth-first, each once).

    Parameters
    ----------
    root : Any
        A loaded config.
    skip : iterable
        Containers known to hold no schema (the plain collections of
        :func:`flambe.compile.yaml.build`), not walked.

    Returns
    -------
    list of Schema
        The schemas, parents first.

    """
    found: list[Schema] = []
    seen: set = {id(value) for value in skip}

    def walk(value: Any) -> None:
        if id(value) in seen:
            return
        seen.add(id(value))
        if isinstance(value, Schema):
            found.append(value)
        for _, child in children(value):
            if type(child) not in LEAF_TYPES:
                walk(child)

    walk(root)
    return found


def link_globals(root: Any) -> dict[str, Any]:
    """Names a root component gives its links besides its keywords (an experiment's resources).

    A root class lists them with a ``config_link_names(schema)`` class method.
    """
    names = getattr(getattr(root, "component_subclass", None), "config_link_names", None)
    if not callable(names):
        return {}
    return {name: name for name in names(root)}


def check(
    root: Any, errors: list[FlambeError] | None = None, skip: Iterable[Any] = ()
) -> list[FlambeError]:
    """Return the problems of a loaded config root (appended to ``errors`` when given).

    Parameters
    ----------
    root : Any
        A loaded config.
    errors : list, optional
        The list to append to.
    skip : iterable
        Containers known to hold no schema or link, not walked.

    Returns
    -------
    list of FlambeError
        ``errors``, with the problems found.

    """
    errors = [] if errors is None else errors
    skip = list(skip)
    bind_links(root, globals_=link_globals(root), errors=errors, strict=True, skip=skip)
    for schema in iter_schemas(root, skip):
        errors.extend(
            check_arguments(
                schema.component_subclass,
                schema.factory_method,
                schema.keywords,
                schema.location,
                schema._key_locations,
                schema._created_with_tag,
            )
        )
        custom = getattr(schema.component_subclass, "validate_config", None)
        if callable(custom) and schema is root:
            errors.extend(custom(schema) or [])
    return errors


def validate_text(text: str, file: str = "<string>", install: bool = False) -> list[FlambeError]:
    """Every problem of a config given as text, without running anything."""
    return validate_text_root(text, file, install)[0]


@without_gc
def validate_text_root(
    text: str, file: str = "<string>", install: bool = False, overrides: Sequence[Any] = ()
) -> tuple[list[FlambeError], Any]:
    """Every problem of a config given as text, and its root as loaded (None if unreadable).

    ``overrides`` (``key.path=value`` strings) change the main document first.
    """
    errors: list[FlambeError] = []
    try:
        extensions, lines, main, name = split_config(text, file)
        if overrides:
            main = apply_overrides(main, overrides, name)
    except FlambeError as exc:
        return [exc], None
    if extensions:
        for module, location in extensions.items():
            try:
                ensure_extensions({module: location}, install=install, file=name, lines=lines)
            except FlambeError as exc:
                errors.append(exc.at(SourceLocation(name, lines.get(module, 1), 1)))
            get_registry().add_module_namespace(module)
    plain: list[Any] = []  # collections with no tag below: no schema or link to look for
    root = build(main, name, errors, bind=False, plain=plain)
    del main  # the nodes are not needed any more: free them before checking
    check(root, errors, plain)
    return errors, root


def validate_file(path: str, install: bool = False) -> list[FlambeError]:
    """Every problem of the config file at ``path``."""
    with open(path, encoding="utf-8") as handle:
        return validate_text(handle.read(), path, install)
