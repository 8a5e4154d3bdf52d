"""The check every config passes before anything runs (``flambe run``, ``Experiment.run``).

It is the check of ``flambe validate`` (:func:`flambe.compile.validate.check`):
every argument of every component, in every variant of every stage (the
elements of ``!g`` grids included), against the signature and the declared
types of its class; every link; and the root's own checks (an experiment's
stage names and resource paths). Every problem found is reported at once,
each at its file, line and column, as one :class:`ConfigProblems` (a
:class:`~flambe.errors.ConfigError`, so ``flambe run`` exits with 22)
before any output folder is created or any trial starts.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

from flambe.errors import ConfigError, FlambeError

_CHECKED: weakref.WeakSet[Any] = weakref.WeakSet()


class ConfigProblems(ConfigError):
    """Every problem of a config, reported together.

    Parameters
    ----------
    problems : sequence of FlambeError
        The problems, in the order of the file.

    """

    def __init__(self, problems: Sequence[FlambeError]) -> None:
        self.problems = list(problems)
        first = self.problems[0]
        super().__init__(first.message, first.location, first.hint)

    def _render(self) -> str:
        text = "\n".join(str(p) for p in self.problems)
        count = len(self.problems)
        if count > 1:
            text += f"\n{count} problems found in the config"
        return text


def _order(problem: FlambeError) -> tuple:
    where = problem.location
    return ("", 0, 0) if where is None else (where.file, where.line, where.column)


def config_problems(root: Any) -> list[FlambeError]:
    """Every problem :func:`preflight` would report, in the order of the file."""
    from flambe.compile.validate import check

    unique, seen = [], set()
    for problem in sorted(check(root), key=_order):
        if str(problem) not in seen:
            seen.add(str(problem))
            unique.append(problem)
    return unique


def preflight(root: Any) -> None:
    """Check a loaded config before anything runs (each root schema once).

    Raises
    ------
    ConfigProblems
        Listing every problem, each at its place in the file.

    """
    if root is None or root in _CHECKED:
        return
    problems = config_problems(root)
    if problems:
        raise ConfigProblems(problems)
    try:
        _CHECKED.add(root)
    except TypeError:  # pragma: no cover - a root that takes no weak reference
        pass
