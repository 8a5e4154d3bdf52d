"""Packages whose public names are imported on first access (PEP 562).

Flambé's packages keep ``import flambe...`` cheap: ``flambe --help`` must not
import torch. A package lists its names and the modules that define them;
:func:`lazy_attributes` gives it the module ``__getattr__`` and ``__dir__``.

Examples
--------
>>> __getattr__, __dir__ = lazy_attributes(__name__, {"Trainer": "flambe.learn.trainer"})
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

from flambe.utils.gcpause import paused_gc


def lazy_attributes(
    package: str, names: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, resolving ``names`` lazily.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    names : mapping
        Public name -> module that defines it. A name equal to the last part
        of its module (``"yaml": "flambe.compile.yaml"``) is the module itself.

    """

    def __getattr__(name: str) -> Any:
        module_name = names.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        with paused_gc():  # imports allocate only objects that live on
            module = importlib.import_module(module_name)
        value = (
            module
            if module_name.rsplit(".", 1)[-1] == name and not hasattr(module, name)
            else getattr(module, name)
        )
        setattr(sys.modules[package], name, value)  # next time: a plain attribute
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(names))

    return __getattr__, __dir__
