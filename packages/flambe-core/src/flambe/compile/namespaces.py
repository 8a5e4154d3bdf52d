"""Resolvers of the ``torch.`` and ``ray.`` tag namespaces.

``!torch.Adam`` looks up ``Adam`` in ``torch.nn``, ``torch.optim``,
``torch.optim.lr_scheduler`` and ``torch`` (in that order); dotted names
walk attributes from ``torch`` (``!torch.nn.Linear``). ``!ray.X`` looks in
Ray Tune's schedulers and search algorithms. Each resolver imports its
library only when a config uses the namespace.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Sequence
from typing import Any

TORCH_MODULES = ("torch.nn", "torch.optim", "torch.optim.lr_scheduler", "torch")
RAY_MODULES = ("ray.tune.schedulers", "ray.tune.search")
# search algorithms that live in their own submodule (imported only when named)
RAY_SEARCHERS = {
    "OptunaSearch": "ray.tune.search.optuna",
    "HyperOptSearch": "ray.tune.search.hyperopt",
    "BayesOptSearch": "ray.tune.search.bayesopt",
    "AxSearch": "ray.tune.search.ax",
    "HEBOSearch": "ray.tune.search.hebo",
    "NevergradSearch": "ray.tune.search.nevergrad",
    "ZOOptSearch": "ray.tune.search.zoopt",
    "TuneBOHB": "ray.tune.search.bohb",
}


def _find(name: str, modules: Sequence[str]) -> type | None:
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
    return _find(name, TORCH_MODULES)


def resolve_ray(name: str) -> type | None:
    """The Ray Tune scheduler or search algorithm a ``!ray.<name>`` tag names, or ``None``."""
    if name in RAY_SEARCHERS:
        return getattr(importlib.import_module(RAY_SEARCHERS[name]), name, None)
    if name.startswith("tune."):
        return _find(name, ("ray",))
    return _find(name, RAY_MODULES)
