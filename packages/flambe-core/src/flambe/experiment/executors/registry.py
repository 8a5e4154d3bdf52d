"""Finding an executor by name, among those core and the plugins declare."""

from __future__ import annotations

from flambe.errors import ConfigError
from flambe.experiment.executors.base import Executor


def available_executors() -> dict[str, str]:
    """Return every declared executor: name -> ``"module:Class"`` (core's and plugins')."""
    from flambe.plugins.manager import get_host

    return {name: target.import_path for name, target in get_host().executors().items()}


def executor_class(name: str) -> type[Executor]:
    """Return the executor class declared under ``name``.

    Parameters
    ----------
    name : str
        ``in_process``, ``local``, ``ray``, ``ray_search`` or a plugin's.

    Returns
    -------
    type
        A subclass of :class:`Executor`.

    Raises
    ------
    ConfigError
        When no installed plugin declares ``name``.

    """
    from flambe.plugins.manager import import_object

    declared = available_executors()
    if name not in declared:
        raise ConfigError(
            f"unknown executor '{name}'",
            hint="use auto, local or ray"
            + (f"; installed: {', '.join(sorted(declared))}" if declared else ""),
        )
    cls = import_object(declared[name])
    if not (isinstance(cls, type) and issubclass(cls, Executor)):
        raise ConfigError(
            f"executor '{name}' ({declared[name]}) is not a flambe.experiment.executors.Executor"
        )
    return cls
