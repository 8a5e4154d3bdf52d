"""Checking config values against the types a constructor declares.

Only what is plainly wrong is reported: a YAML value (or each element of a
``!g`` grid) whose kind cannot be what the annotation asks for, such as the
string ``eight`` for ``hidden_size: int`` or a number for a ``str``.
A torch module or Flambé component class accepts no plain YAML value (the
string ``last`` for ``pooling: nn.Module``): those are written with their tag.
Annotations this module does not understand (other classes, protocols,
generics of classes, forward references it cannot resolve) accept
everything, and so do links and components, whose values are known only
once built.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Mapping
from typing import Any

from flambe.compile import bases
from flambe.compile.registrable import Registrable
from flambe.compile.state import StatefulMixin
from flambe.errors import ArgumentError, SourceLocation

_HINTS: dict[tuple[Any, str | None], dict[str, Any]] = {}
_UNKNOWN = object()
_SCALARS = (str, int, float, bool, type(None))


def declared_types(cls: type, factory: str | None, init: Callable | None) -> dict[str, Any]:
    """The resolved annotations of a constructor's parameters (cached per class)."""
    key = (cls, factory)
    if key in _HINTS:
        return _HINTS[key]
    hints: dict[str, Any] = {}
    if init is not None:
        try:
            hints = typing.get_type_hints(init)
        except Exception:  # noqa: BLE001 - unresolvable forward references: check nothing
            hints = {}
    hints.pop("return", None)
    _HINTS[key] = hints
    return hints


def constructor_function(cls: type, factory: str | None) -> Callable | None:
    """The function whose annotations the keywords of ``cls`` (or its factory) follow."""
    if factory:
        return getattr(cls, factory, None)
    skipped = (bases.component_class(), Registrable, StatefulMixin, object)
    for klass in cls.__mro__:
        if klass in skipped:
            continue
        init = vars(klass).get("__init__")
        if init is not None:
            return init
    return None


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, int):
        return f"{value} (a whole number)"
    if isinstance(value, float):
        return f"{value} (a number)"
    if isinstance(value, str):
        return f"'{value}' (a string)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _name(annotation: Any) -> str:
    """How an annotation reads in a message: ``int``, ``int or null``, ``one of 'a', 'b'``."""
    if annotation is type(None):
        return "null"
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Union or (origin is not None and type(annotation).__name__ == "UnionType"):
        return " or ".join(_name(arg) for arg in args)
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(arg) for arg in args)
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def fits(value: Any, annotation: Any) -> Any:
    """True when ``value`` may be a value of ``annotation``, False when plainly not.

    Returns the sentinel for "cannot tell" as True.
    """
    result = _fits(value, annotation)
    return result is not False


def _fits(value: Any, annotation: Any) -> Any:
    if annotation is Any or annotation is inspect.Parameter.empty or isinstance(annotation, str):
        return _UNKNOWN
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Union or (origin is not None and type(annotation).__name__ == "UnionType"):
        results = [_fits(value, arg) for arg in args]
        if any(r is True for r in results) or any(r is _UNKNOWN for r in results):
            return True
        return False
    if origin is typing.Literal:
        return value in args
    if annotation is type(None):
        return value is None
    if annotation is bool:
        return isinstance(value, (bool, int))
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if annotation in (list, tuple) or origin in (list, tuple):
        return isinstance(value, (list, tuple))
    if annotation is dict or origin is dict:
        return isinstance(value, dict)
    if isinstance(annotation, type) and _is_module_or_component(annotation):
        # a plain YAML value (a string, a number, an untagged mapping) is never a built
        # module or component: those are written with their tag
        return False
    return _UNKNOWN


def _is_module_or_component(annotation: type) -> bool:
    """Whether ``annotation`` is a Flambé component or a torch module class."""
    for klass in annotation.__mro__:
        if klass.__name__ == "Module" and klass.__module__ == "torch.nn.modules.module":
            return True
        if klass.__name__ == "Component" and klass.__module__ == "flambe.compile.component":
            return True
    return False


def type_problem(value: Any, annotation: Any, default: Any) -> str | None:
    """Why ``value`` plainly cannot be a value of ``annotation`` (None when it may be)."""
    if not isinstance(value, (*_SCALARS, list, dict)):
        return None  # components, links, options: known only once built
    if value is None and default is None:
        return None  # ``x: int = None`` written without Optional
    if fits(value, annotation):
        return None
    if isinstance(value, (list, dict)) and not _is_plain(value):
        return None
    return f"expects {_name(annotation)}, got {_describe(value)}"


def _is_plain(value: Any) -> bool:
    if isinstance(value, _SCALARS):
        return True
    if isinstance(value, list):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(_is_plain(v) for v in value.values())
    return False


def type_problems(
    cls: type,
    factory: str | None,
    params: Mapping[str, inspect.Parameter],
    kwargs: Mapping[str, Any],
    location: SourceLocation | None,
    key_locations: Mapping[str, SourceLocation] | None,
    shown: str,
) -> list[ArgumentError]:
    """Values (each value a search option may take) whose declared type is plainly wrong.

    Parameters
    ----------
    cls, factory
        The class and its factory method (None for the constructor).
    params : mapping
        The parameters of the signature the keywords fit.
    kwargs : mapping
        The keywords as loaded.
    location, key_locations
        Where the component and each keyword's value were written.
    shown : str
        The tag naming the component in messages.

    """
    hints = declared_types(cls, factory, constructor_function(cls, factory))
    if not hints:
        return []
    problems: list[ArgumentError] = []
    for key, value in kwargs.items():
        annotation = hints.get(key)
        if annotation is None or key not in params:
            continue
        if getattr(value, "_flambe_option", False):  # each value a variant may take
            candidates = list(
                getattr(value, "elements", None) or getattr(value, "args", None) or []
            )
            if hasattr(value, "low") and hasattr(value, "high"):  # !s [low, high, k]
                candidates = [value.low, value.high]
        else:
            candidates = [value]
        for candidate in candidates:
            why = type_problem(candidate, annotation, params[key].default)
            if why:
                problems.append(
                    ArgumentError(
                        f"{shown} argument '{key}' {why}",
                        (key_locations or {}).get(key, location),
                        hint=_hint(key, annotation),
                    )
                )
                break
    return problems


def _hint(key: str, annotation: Any) -> str:
    """How to write a value of ``annotation``."""
    classes = [
        arg
        for arg in (typing.get_args(annotation) or (annotation,))
        if isinstance(arg, type) and _is_module_or_component(arg)
    ]
    if classes:
        return (
            f"'{key}' takes a {classes[0].__name__}: write one with its tag "
            f"(`{key}: !SomeClass {{...}}`) or link to one (`{key}: !@ stage.attr`)"
        )
    return f"give '{key}' a value of type {_name(annotation)}"
