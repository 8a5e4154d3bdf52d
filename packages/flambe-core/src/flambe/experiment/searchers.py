"""Search algorithms by name: Ray Tune's and those plugins add.

``search: {stage: !ray.OptunaSearch {}}`` names one of Ray Tune's search
algorithms (or schedulers); ``!search.<Name>`` names any search algorithm a
plugin declared with the ``flambe_search_algorithms`` hook, core's
declaration of Ray's own included. A plugin's algorithm needs not come from
Ray: it must implement Ray Tune's ``Searcher`` interface (``suggest``,
``on_trial_complete``), which is how a searched stage asks it for values.

Nothing here imports Ray until a name is resolved.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from flambe.compile.namespaces import find_class

RAY_MODULES = ("ray.tune.schedulers", "ray.tune.search")
# Ray's search algorithms that live in their own submodule (imported only when named)
RAY_SEARCHERS: Mapping[str, str] = {
    "OptunaSearch": "ray.tune.search.optuna:OptunaSearch",
    "HyperOptSearch": "ray.tune.search.hyperopt:HyperOptSearch",
    "BayesOptSearch": "ray.tune.search.bayesopt:BayesOptSearch",
    "AxSearch": "ray.tune.search.ax:AxSearch",
    "HEBOSearch": "ray.tune.search.hebo:HEBOSearch",
    "NevergradSearch": "ray.tune.search.nevergrad:NevergradSearch",
    "ZOOptSearch": "ray.tune.search.zoopt:ZOOptSearch",
    "TuneBOHB": "ray.tune.search.bohb:TuneBOHB",
}


def declared() -> dict[str, str]:
    """Return every search algorithm declared by a plugin: name -> ``"module:Class"``.

    Returns
    -------
    dict
        Core's (Ray's algorithms) and the installed plugins', by name.

    """
    from flambe.plugins.manager import get_host

    return {name: target.import_path for name, target in get_host().search_algorithms().items()}


def _load(path: str) -> type | None:
    module, _, attribute = path.partition(":")
    found = getattr(importlib.import_module(module), attribute, None)
    return found if isinstance(found, type) else None


def resolve_search(name: str) -> type | None:
    """Return the search algorithm a ``!search.<name>`` tag names, or ``None``.

    Parameters
    ----------
    name : str
        A name declared with the ``flambe_search_algorithms`` hook.

    Returns
    -------
    type or None
        The class.

    """
    path = declared().get(name)
    return _load(path) if path is not None else None


def resolve_ray(name: str) -> type | None:
    """Return the Ray Tune scheduler or search algorithm a ``!ray.<name>`` tag names, or ``None``.

    Parameters
    ----------
    name : str
        A class of ``ray.tune.schedulers`` or ``ray.tune.search`` (or one of
        :data:`RAY_SEARCHERS`), or a dotted path below ``ray`` (``tune.X``).

    Returns
    -------
    type or None
        The class.

    """
    if name in RAY_SEARCHERS:
        return _load(RAY_SEARCHERS[name])
    if name.startswith("tune."):
        return find_class(name, ("ray",))
    return find_class(name, RAY_MODULES)
