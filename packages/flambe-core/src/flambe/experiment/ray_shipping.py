"""Flambé's code for a Ray cluster that this machine did not start.

A stage run on an existing Ray cluster (``flambe run --ray-address``, or
``ray_address:`` in the experiment: KubeRay, ``ray up``, a colleague's head node)
must not need Flambé installed on the cluster's nodes. This module gathers what
the trials import from this machine, Flambé's own package with every installed
plugin subpackage and the experiment's extensions, together with the metadata of
their distributions (so plugins are found through their entry points there too),
and hands them to Ray's runtime environment as ``py_modules``. Ray uploads them
once per content (it names uploads by a hash) and puts them first on the workers'
module path, so the trials run the driver's code, whatever the nodes have.

The nodes still need Python, Ray, torch and Flambé's third-party dependencies
(a Ray image with torch has them but pluggy, dill, ruamel.yaml and tensorboardX);
``FLAMBE_RAY_RUNTIME_ENV`` (JSON, Ray's ``runtime_env`` format, for example
``{"pip": ["pluggy", "dill"]}``) is merged into what this module sends.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: modules shipped on top of ``flambe`` (the experiment's extensions), set by the run
_extra_modules: set[str] = set()

#: the environment variable with the user's own runtime_env additions (JSON)
USER_RUNTIME_ENV = "FLAMBE_RAY_RUNTIME_ENV"

#: set to ``0`` when the cluster's nodes already have this exact code (flambe-cluster's hosts)
SHIP_VARIABLE = "FLAMBE_RAY_SHIP"

_SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".pytest_cache", "*.egg-info")


def ship_modules(names: Iterable[str]) -> None:
    """Ship the top-level modules ``names`` (extensions) with Flambé to an existing cluster."""
    _extra_modules.update(name.split(".")[0] for name in names)


def shipping_enabled() -> bool:
    """Whether stages connect to a Ray cluster started elsewhere and should ship code to it."""
    return bool(os.environ.get("RAY_ADDRESS")) and os.environ.get(SHIP_VARIABLE, "1") != "0"


def user_runtime_env() -> dict[str, Any]:
    """The runtime environment additions given in ``FLAMBE_RAY_RUNTIME_ENV`` (JSON)."""
    text = os.environ.get(USER_RUNTIME_ENV, "").strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{USER_RUNTIME_ENV} is not JSON ({exc}); give Ray's runtime_env as a JSON object, "
            'for example {"pip": ["pluggy"]}'
        ) from exc
    if not isinstance(value, dict):
        raise ValueError(f"{USER_RUNTIME_ENV} must be a JSON object, got {type(value).__name__}")
    return value


def distributions_of(modules: Iterable[str]) -> list[importlib.metadata.Distribution]:
    """The installed distributions that provide the top-level ``modules``, once each."""
    provided = importlib.metadata.packages_distributions()
    wanted = {name for module in modules for name in provided.get(module, [])}
    found: dict[str, importlib.metadata.Distribution] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        key = _normalise(name)
        if key not in found and (name in wanted or _provides_flambe(dist, modules)):
            found[key] = dist
    return [found[key] for key in sorted(found)]


def _provides_flambe(dist: importlib.metadata.Distribution, modules: Iterable[str]) -> bool:
    """Whether ``dist`` is a Flambé plugin (editable installs name no top-level module)."""
    if "flambe" not in modules:
        return False
    return any(ep.group == "flambe.plugins" for ep in dist.entry_points) or (
        _normalise(dist.metadata["Name"]) == "flambe_core"
    )


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def stage_modules(modules: Iterable[str], folder: Path) -> list[Path]:
    """Copy ``modules`` and their distributions' metadata into ``folder``; return the entries.

    A package split over several folders (``flambe`` and the plugins' subpackages)
    is merged into one. Each returned path is one ``py_modules`` entry for Ray.
    """
    names = sorted(set(modules))
    entries: list[Path] = []
    for name in names:
        try:  # imported, so that a package extended by plugins shows all its folders
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ModuleNotFoundError(
                f"{name} cannot be shipped to Ray: it is not importable here ({exc})"
            ) from exc
        spec = module.__spec__
        locations = list(getattr(module, "__path__", []))
        if locations:
            target = folder / name
            for location in locations:
                shutil.copytree(location, target, ignore=_SKIPPED, dirs_exist_ok=True)
            entries.append(target)
        elif spec is not None and spec.origin and spec.origin.endswith(".py"):
            target = folder / f"{name}.py"
            shutil.copy2(spec.origin, target)
            entries.append(target)
        else:
            raise ModuleNotFoundError(
                f"{name} cannot be shipped to Ray: {module.__file__} is not Python source"
            )
    for dist in distributions_of(names):
        entries.append(_write_metadata(dist, folder))
    return entries


def _write_metadata(dist: importlib.metadata.Distribution, folder: Path) -> Path:
    """A minimal ``.dist-info`` for ``dist``: its name, version and entry points."""
    name, version = _normalise(dist.metadata["Name"]), dist.version
    target = folder / f"{name}-{version}.dist-info"
    target.mkdir(parents=True, exist_ok=True)
    (target / "METADATA").write_text(
        dist.read_text("METADATA") or f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        encoding="utf-8",
    )
    points = dist.read_text("entry_points.txt")
    if points:
        (target / "entry_points.txt").write_text(points, encoding="utf-8")
    return target


def shipped_runtime_env(folder: Path | None = None) -> tuple[dict[str, Any], Path]:
    """Ray's ``runtime_env`` that ships Flambé and the extensions; and the staging folder.

    The folder may be removed once ``ray.init`` returns (Ray has uploaded it).
    """
    stage = folder or Path(tempfile.mkdtemp(prefix="flambe-ray-modules-"))
    entries = stage_modules({"flambe", *_extra_modules}, stage)
    env: dict[str, Any] = {"py_modules": [str(path) for path in entries]}
    extra = user_runtime_env()
    if extra.get("py_modules"):
        env["py_modules"] += list(extra.pop("py_modules"))
    env.update(extra)
    return env, stage
