"""Arguments that configs written for older libraries pass, and what became of them.

Configs written for Flambé 0.4 name Ray 1-era arguments of the ``!ray.``
schedulers and search algorithms: ``reward_attr`` (removed from Ray: the
metric and its direction are ``metric``/``mode`` now) and, on search
algorithms, ``max_concurrent`` (moved to ``ConcurrencyLimiter``). Flambé sets
``metric`` and ``mode`` itself, from the stage's ``metric()``, so arguments
that only named the metric are dropped with one warning saying so; an
argument that asks for something Flambé would not do on its own is refused
with the config that does it.

The table is consulted only for classes of the ``ray`` package, so building
any other component pays one attribute lookup.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flambe.errors import ArgumentError, SourceLocation

logger = logging.getLogger(__name__)
# (where, argument) pairs already warned about: a config loaded twice warns once
_warned: set = set()

_SETS_METRIC = (
    "Flambé sets metric and mode itself, from the stage's metric() "
    "(higher is better unless the component says otherwise)"
)


@dataclass(frozen=True)
class Removed:
    """What became of an argument that a newer version of a library no longer takes.

    Attributes
    ----------
    replaced_by : str
        What does the argument's job now (said in the warning or the error).
    refused : bool
        True when Flambé cannot honour the argument by dropping it: the
        config must say it differently (``replaced_by`` says how).

    """

    replaced_by: str
    refused: bool = False


# argument -> what became of it, for every !ray. scheduler and search algorithm
RAY_REMOVED: dict[str, Removed] = {
    # Ray <= 0.8: the metric to maximise; Ray 2: metric + mode
    "reward_attr": Removed(_SETS_METRIC),
    # Ray 2 still takes these, but Flambé's Tune run sets them: given twice, Ray refuses
    "metric": Removed(_SETS_METRIC),
    "mode": Removed(_SETS_METRIC),
}
# search algorithms only: Ray 1's per-searcher limit of trials running at once
RAY_SEARCHER_REMOVED: dict[str, Removed] = {
    "max_concurrent": Removed(
        "Ray 2 limits a search algorithm's running trials with ConcurrencyLimiter: write "
        "`!ray.ConcurrencyLimiter {searcher: !ray.<Searcher> {...}, max_concurrent: N}`",
        refused=True,
    ),
}


def _ray_class(cls: type) -> type | None:
    """Return the Ray class behind ``cls`` (a wrapped third-party class), or ``None``."""
    wrapped = getattr(cls, "_flambe_wrapped", None)
    if wrapped is None or not wrapped.__module__.startswith("ray."):
        return None
    return wrapped


def _is_searcher(cls: type) -> bool:
    return any(
        klass.__name__ == "Searcher" and klass.__module__.startswith("ray.tune.search")
        for klass in cls.__mro__
    )


def translate_removed(
    cls: type,
    keywords: dict[str, Any],
    key_locations: Mapping[str, SourceLocation],
    location: SourceLocation | None = None,
    tag: str | None = None,
) -> tuple[dict[str, Any], dict[str, SourceLocation]]:
    """``keywords`` without the removed arguments that Flambé replaces.

    Dropped arguments are logged once each, at their own line; an argument
    Flambé cannot honour raises.

    Raises
    ------
    ArgumentError
        For an argument that must be written another way (``max_concurrent``
        on a search algorithm), at the argument's line, saying how.

    """
    ray_class = _ray_class(cls)
    if ray_class is None:
        return keywords, dict(key_locations)
    table = dict(RAY_REMOVED)
    if _is_searcher(ray_class):
        table.update(RAY_SEARCHER_REMOVED)
    shown = tag or f"!ray.{ray_class.__name__}"
    kept = dict(keywords)
    where = dict(key_locations)
    for name in [k for k in keywords if k in table]:
        removed = table[name]
        at = where.get(name, location)
        if removed.refused:
            raise ArgumentError(f"{shown} no longer takes '{name}'", at, hint=removed.replaced_by)
        if (str(at), name) not in _warned:
            _warned.add((str(at), name))
            logger.warning(
                "%s%s: '%s' is ignored: %s",
                f"{at}: " if at else "",
                shown,
                name,
                removed.replaced_by,
            )
        del kept[name]
        where.pop(name, None)
    return kept, where
