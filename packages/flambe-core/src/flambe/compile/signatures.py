"""Constructor signatures, and the arguments a component was built with.

:func:`constructor_signature` is the signature a config's keywords must
fit; :func:`recorded_arguments` gives the keyword arguments an object was
built with (from its config, or as recorded by ``Component.__new__`` when it
was built in code), which is what saving writes as its config.
"""

from __future__ import annotations

import inspect
from typing import Any

from flambe.compile import bases
from flambe.compile.registrable import Registrable
from flambe.compile.state import StatefulMixin
from flambe.errors import SaveError

_PRIMITIVES = (type(None), bool, int, float, str)
# the instance attribute holding (args, kwargs) as given to the constructor
INIT_ARGUMENTS = "_flambe_init_args"


def constructor_signature(cls: type, factory: str | None = None) -> inspect.Signature | None:
    """The signature a config's keywords must fit (``None`` when it cannot be read)."""
    skipped = (bases.component_class(), Registrable, StatefulMixin, object)
    try:
        if factory:
            return inspect.signature(getattr(cls, factory))
        for klass in cls.__mro__:
            if klass in skipped:
                continue
            init = vars(klass).get("__init__")
            if init is not None:
                params = list(inspect.signature(init).parameters.values())[1:]
                return inspect.Signature(params)
        return inspect.Signature([])
    except (TypeError, ValueError):
        return None


def signature_defaults(cls: type, factory: str | None = None) -> dict[str, Any]:
    """Constructor defaults that YAML can hold (dumped so a config records every value)."""
    sig = constructor_signature(cls, factory)
    if sig is None:
        return {}
    out = {}
    for p in sig.parameters.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY):
            continue
        if p.default is not inspect.Parameter.empty and _is_plain(p.default):
            out[p.name] = p.default
    return out


def _is_plain(value: Any) -> bool:
    if isinstance(value, _PRIMITIVES):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False


def recorded_arguments(obj: Any) -> dict[str, Any] | None:
    """Return the keyword arguments ``obj`` was built with, as its config writes them.

    An object built from a config returns the arguments it was compiled
    from. An object built in code returns its constructor's arguments, as
    recorded when it was created, bound to the constructor's signature
    (positional ones get their names, ``**kwargs`` are spread) and
    completed with the defaults YAML can hold. ``None`` when nothing was
    recorded (an object made without calling its class).

    Raises
    ------
    SaveError
        When an argument cannot be given by keyword (positional-only, or
        passed through ``*args``).

    """
    found = getattr(obj, "__dict__", {})
    if "_saved_kwargs" in found:
        return found["_saved_kwargs"]
    given = found.get(INIT_ARGUMENTS)
    if given is None:
        return None
    args, kwargs = given
    cls = type(obj)
    sig = constructor_signature(cls)
    shown = cls.__qualname__ if not getattr(cls, "_flambe_dynamic", False) else cls.__name__
    if sig is None:
        raise SaveError(
            f"the constructor of {shown} has no readable signature, so its "
            "arguments cannot be written to a config"
        )
    try:
        bound = sig.bind(*args, **kwargs)
    except TypeError as exc:
        raise SaveError(
            f"the arguments {shown} was built with do not fit its constructor: {exc}",
            hint="build the object from a YAML config instead",
        ) from exc
    out = _by_keyword(bound, shown)
    for name, default in signature_defaults(cls).items():
        out.setdefault(name, default)
    return out


def _by_keyword(bound: inspect.BoundArguments, shown: str) -> dict[str, Any]:
    """The bound arguments by name, ``**kwargs`` spread; a config cannot name the others."""
    out: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        kind = bound.signature.parameters[name].kind
        if kind == inspect.Parameter.VAR_KEYWORD:
            out.update(value)
        elif kind == inspect.Parameter.VAR_POSITIONAL:
            if value:
                raise SaveError(
                    f"{shown} was given {len(value)} positional argument(s) through "
                    f"*{name}, which a config cannot name",
                    hint=f"pass them by keyword when building the {shown}",
                )
        elif kind == inspect.Parameter.POSITIONAL_ONLY:
            raise SaveError(
                f"argument '{name}' of {shown} is positional-only, which a config cannot name",
                hint="build the object from a YAML config instead",
            )
        else:
            out[name] = value
    return out
