"""The base classes of the compile layer, known to the modules below them.

The compile layer imports one way: the tag registry, then
:class:`~flambe.compile.registrable.Registrable`, then the config data
(schemas, links, binding), YAML and saving, then
:class:`~flambe.compile.component.Component`, which uses them all. A lower
module that must recognise an object of a higher one (is this a component?)
asks here instead of importing the higher module: each base class registers
itself below when it is defined. Before a base is defined no object can be
an instance of it, so the answers are exact at every moment.
"""

from __future__ import annotations

from typing import Any

_registrable: tuple[type, ...] = ()
_component: tuple[type, ...] = ()


def set_registrable_class(cls: type) -> None:
    """Record the :class:`~flambe.compile.registrable.Registrable` base class.

    Parameters
    ----------
    cls : type
        The class, registered once when its module is imported.

    """
    global _registrable
    _registrable = (cls,)


def set_component_class(cls: type) -> None:
    """Record the :class:`~flambe.compile.component.Component` base class.

    Parameters
    ----------
    cls : type
        The class, registered once when its module is imported.

    """
    global _component
    _component = (cls,)


def component_class() -> type | None:
    """Return the ``Component`` base class, or ``None`` while it is not defined yet."""
    return _component[0] if _component else None


def registrable_class() -> type | None:
    """Return the ``Registrable`` base class, or ``None`` while it is not defined yet."""
    return _registrable[0] if _registrable else None


def is_component(obj: Any) -> bool:
    """Tell whether ``obj`` is a component (an instance of a ``Component`` subclass)."""
    return isinstance(obj, _component)


def is_component_class(cls: Any) -> bool:
    """Tell whether ``cls`` is ``Component`` or one of its subclasses."""
    return isinstance(cls, type) and issubclass(cls, _component)


def is_registrable(obj: Any) -> bool:
    """Tell whether ``obj`` is an instance of a ``Registrable`` subclass."""
    return isinstance(obj, _registrable)


def is_registrable_class(cls: Any) -> bool:
    """Tell whether ``cls`` is ``Registrable`` or one of its subclasses."""
    return isinstance(cls, type) and issubclass(cls, _registrable)
