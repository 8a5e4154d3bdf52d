"""The config of a component built in code, for :func:`flambe.save`.

A component built from YAML saves the config it was compiled from. One built
in Python (``TextClassifier(embedder=..., output_layer=...)``) has no config,
but every component records the arguments given to its constructor when it
is created (:func:`~flambe.compile.signatures.recorded_arguments`). When the
object is saved, those arguments are written as its config, so that
:func:`flambe.load` rebuilds it and then loads its state.

That works when every argument, recursively, can be written as YAML: plain
values, lists and mappings of them, and other components (built in code or
from a config). :func:`check_arguments_writable` walks them before anything
is written and names the first one that cannot be, e.g.
``model.embedder.embedding``.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from flambe.compile import bases, yaml
from flambe.compile.link import Link
from flambe.compile.registrable import Registrable
from flambe.compile.registry import get_registry
from flambe.compile.schema import Schema
from flambe.compile.signatures import recorded_arguments
from flambe.errors import FlambeError, SaveError

_SCALARS = (type(None), bool, int, float, str, datetime.date)
_HINT = (
    "arguments of a component built in code must be plain values, lists, mappings or "
    "other Flambé components; build this one as a component too (flambe.nn.Embeddings "
    "rather than torch.nn.Embedding, say), or build the object from a YAML config"
)


def is_built_in_code(obj: Any) -> bool:
    """Whether ``obj`` is a component built in code (it recorded arguments but has no config)."""
    found = getattr(obj, "__dict__", {})
    return (
        bases.is_component(obj)
        and "_saved_kwargs" not in found
        and found.get("_flambe_init_args") is not None
    )


def check_arguments_writable(obj: Any, name: str | None = None) -> None:
    """Raise :class:`~flambe.errors.SaveError` naming the first argument YAML cannot hold.

    Parameters
    ----------
    obj : Component
        A component built in code.
    name : str, optional
        How to call ``obj`` in messages (its class name by default).

    """
    _check_component(obj, name or type(obj).__name__, set())


def _check_component(obj: Any, where: str, seen: set[int]) -> None:
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if "_saved_kwargs" in getattr(obj, "__dict__", {}):
        return  # built from a config: saved from that config
    kwargs = recorded_arguments(obj)
    if kwargs is None:
        raise SaveError(
            f"'{where}' ({type(obj).__name__}) was made without calling its class, "
            "so its arguments are unknown",
            hint=_HINT,
        )
    _check_tag(obj, where)
    for key, value in kwargs.items():
        _check_value(value, f"{where}.{key}", seen)


def _check_tag(obj: Any, where: str) -> None:
    try:
        get_registry().default_tag(type(obj))
    except FlambeError as exc:
        raise SaveError(
            f"'{where}' is a {type(obj).__qualname__}, which has no YAML tag",
            hint=exc.hint or _HINT,
        ) from exc


def _check_value(value: Any, where: str, seen: set[int]) -> None:
    if isinstance(value, _SCALARS) or isinstance(value, (Link, Schema)):
        return
    if bases.is_component(value):
        _check_component(value, where, seen)
    elif isinstance(value, Registrable):
        if not hasattr(value, "_saved_kwargs"):
            raise SaveError(
                f"argument '{where}' is a {type(value).__qualname__} built in code, "
                "whose arguments are not recorded",
                hint=_HINT,
            )
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool)):
                raise SaveError(
                    f"argument '{where}' has a key {key!r} of type "
                    f"{type(key).__name__}, which YAML cannot hold",
                    hint=_HINT,
                )
            _check_value(item, f"{where}.{key}", seen)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_value(item, f"{where}[{index}]", seen)
    else:
        cls = type(value)
        raise SaveError(
            f"argument '{where}' is a {cls.__module__}.{cls.__qualname__}, which "
            "cannot be written as YAML",
            hint=_HINT,
        )


def config_for_code_built(obj: Any) -> tuple[str, dict[str, Any]] | None:
    """Make the config (and stash) to save for ``obj`` when built in code, else ``None``.

    Raises
    ------
    SaveError
        When one of its arguments cannot be written as YAML (the message
        names it, e.g. ``TextClassifier.embedder.embedding``).

    """
    if not is_built_in_code(obj):
        return None
    check_arguments_writable(obj)
    return yaml.dump_for_save(obj, obj.aggregate_extensions_metadata())
