"""Names of the original Flambé that moved to a plugin distribution.

``from flambe.field import TextField`` and ``from flambe.tokenizer import
WordTokenizer`` are the import paths of the original documentation; the
classes now come with ``flambe-nlp`` (``flambe.nlp.field``,
``flambe.nlp.tokenizer``). The old paths keep working when that
distribution is installed: the name is imported from its new home on first
access (PEP 562), so importing the old package costs nothing. When it is not
installed, the import fails with a :class:`MovedNameError` that says which
distribution provides the name and how to install it.

Examples
--------
>>> __getattr__, __dir__ = moved_attributes(
...     __name__, {"TextField": "flambe.nlp.field"}, "flambe-nlp")
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Mapping
from typing import Any


class MovedNameError(ImportError):
    """A name of the original Flambé whose distribution is not installed.

    An :class:`ImportError`, so ``from flambe.field import TextField`` shows
    this message rather than Python's bare "cannot import name".
    """


def _is_installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def moved_attributes(
    package: str, names: Mapping[str, str], distribution: str
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, forwarding moved ``names``.

    Parameters
    ----------
    package : str
        The old package's ``__name__`` (``"flambe.field"``).
    names : mapping
        Moved name -> the module that now defines it (``"flambe.nlp.field"``).
    distribution : str
        The distribution that provides those modules (``"flambe-nlp"``).

    Returns
    -------
    (callable, callable)
        The module's ``__getattr__`` and ``__dir__``. ``__getattr__`` raises
        :class:`AttributeError` for other names and :class:`MovedNameError`
        for a moved name whose distribution is not installed.

    """
    home = min(names.values(), key=len).split(".")[:2] if names else []
    top = ".".join(home)  # "flambe.nlp": its absence means the distribution is absent

    def __getattr__(name: str) -> Any:
        target = names.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        try:
            module = importlib.import_module(target)
        except ModuleNotFoundError as exc:
            if exc.name is None or not (target == exc.name or target.startswith(exc.name + ".")):
                raise  # the distribution is there but one of its dependencies is not
            raise MovedNameError(
                f"{package}.{name} comes with the {distribution} distribution (as "
                f"{target}.{name}), which is not installed: pip install {distribution}",
                name=target,
            ) from None
        value = getattr(module, name)
        setattr(sys.modules[package], name, value)  # next time: a plain attribute
        return value

    def __dir__() -> list[str]:
        own = set(vars(sys.modules[package]))
        return sorted(own | set(names) if top and _is_installed(top) else own)

    return __getattr__, __dir__


def moved_module(
    package: str, target: str, names: list[str], distribution: str
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """:func:`moved_attributes` for a module whose every public name moved to ``target``."""
    return moved_attributes(package, {name: target for name in names}, distribution)
