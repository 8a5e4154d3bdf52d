"""What every process running a trial needs: its devices and the pipeline's modules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flambe.errors import ConfigError


def trial_devices(devices: Mapping[str, float] | None) -> dict[str, float]:
    """Return what one trial asks for: ``devices``, or one CPU (and one GPU when there is one).

    Parameters
    ----------
    devices : Mapping, optional
        The experiment's ``devices``.

    Returns
    -------
    dict
        ``{"cpu": ..., "gpu": ...}``.

    """
    if devices:
        return dict(devices)
    found: dict[str, float] = {"cpu": 1}
    try:
        import torch

        if torch.cuda.is_available():
            found["gpu"] = 1
    except ImportError:  # pragma: no cover
        pass
    return found


def pipeline_modules(pipeline: Any) -> list[str]:
    """Return the modules defining the classes of a pipeline, which workers import first.

    Parameters
    ----------
    pipeline : Any
        The stages (a config tree).

    Returns
    -------
    list of str
        Module names, in the order met.

    Raises
    ------
    ConfigError
        For a class defined in ``__main__``, which no worker can import.

    """
    from flambe.compile import tree
    from flambe.compile.schema import Schema

    found: list[str] = []
    for value in tree.walk(pipeline):
        if not isinstance(value, Schema):
            continue
        module = value.component_subclass.__module__
        if module == "__main__":
            raise ConfigError(
                f"{value.component_subclass.__qualname__} is defined in the script being "
                "run, which worker processes cannot import",
                value.location,
                hint="move the class into a module or an extension",
            )
        if module not in found and not module.startswith("flambe.compile.wrapped"):
            found.append(module)
    return found
