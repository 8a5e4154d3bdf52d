"""Resolvers of the ``torch.`` and ``ray.`` tag namespaces.

``!torch.Adam`` looks up ``Adam`` in ``torch.nn``, ``torch.optim``,
``torch.optim.lr_scheduler`` and ``torch`` (in that order); dotted names
walk attributes from ``torch`` (``!torch.nn.Linear``). The resolver
imports torch only when a config uses the namespace. (``!ray.X`` is
resolved beside the search code, in :mod:`flambe.experiment.searchers`.)
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Sequence
from typing import Any

TORCH_MODULES = ("torch.nn", "torch.optim", "torch.optim.lr_scheduler", "torch")


def find_class(name: str, modules: Sequence[str]) -> type | None:
    """Return the class ``name`` names in the first of ``modules`` that has it, or ``None``.

    A dotted name walks attributes from the top package of the last module.
    """
    if "." in name:
        obj: Any = importlib.import_module(modules[-1].split(".")[0])
        for part in name.split("."):
            obj = getattr(obj, part, None)
            if obj is None:
                return None
        return obj if inspect.isclass(obj) else None
    for module_name in modules:
        obj = getattr(importlib.import_module(module_name), name, None)
        if inspect.isclass(obj):
            return obj
    return None


def resolve_torch(name: str) -> type | None:
    """The torch class a ``!torch.<name>`` tag names, or ``None``."""
    return find_class(name, TORCH_MODULES)
