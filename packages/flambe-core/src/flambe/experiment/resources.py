"""Resources of an experiment: files and folders the pipeline links to by name.

``resources: {train: data/train.csv, vectors: https://host/glove.txt}``
makes ``!@ train`` and ``!@ vectors`` links yield local paths. Local paths
must exist (they are made absolute); URLs are downloaded once through the
storage backends and cached under the Flambé home folder. The docs' form
``{local: {...}, remote: {...}}`` is accepted too (remote entries name
paths on a cluster and are passed through there, refused locally).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping
from typing import Any

from flambe.errors import ConfigError


def flatten(resources: Mapping[str, Any] | None) -> dict[str, Any]:
    """``{name: location}`` from either the flat or the docs' local/remote form."""
    if not resources:
        return {}
    if set(resources) <= {"local", "remote"} and all(
        isinstance(v, Mapping) or v is None for v in resources.values()
    ):
        flat: dict[str, Any] = {}
        for section in ("local", "remote"):
            for name, value in (resources.get(section) or {}).items():
                flat[name] = ClusterPath(value) if section == "remote" else value
        return flat
    return dict(resources)


class ClusterPath(str):
    """A path that exists on the cluster only (never uploaded, refused locally)."""


def _cache_dir() -> str:
    from flambe.utils.paths import flambe_home

    return os.path.join(str(flambe_home()), "cache", "resources")


def materialize(
    resources: Mapping[str, Any], base_dir: str = ".", locations: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """Local paths for every resource (downloading URLs once).

    Relative local paths start from ``base_dir`` (the config's folder);
    ``locations`` tells where each resource was written, for the errors.

    Raises
    ------
    ConfigError
        A local path that does not exist, a cluster-only path in a local run,
        or a URL that cannot be fetched.

    """
    from flambe import storage

    out: dict[str, str] = {}
    for name, location in resources.items():
        if isinstance(location, ClusterPath):
            raise ConfigError(
                f"resource '{name}' ({location}) lives on a cluster only",
                hint="run with --cluster, or give a local path",
            )
        text = str(location)
        if not storage.is_local(text):
            target = os.path.join(
                _cache_dir(),
                hashlib.sha1(text.encode()).hexdigest()[:16],
                os.path.basename(text.rstrip("/")) or name,
            )
            if not os.path.exists(target):
                try:
                    storage.backend_for(text, f"resource '{name}':")
                except storage.StorageError as exc:  # a scheme no plugin serves
                    raise ConfigError(exc.message, hint=exc.hint) from None
                os.makedirs(os.path.dirname(target), exist_ok=True)
                try:
                    with storage.open_local(text) as local:
                        _copy(local, target)
                except Exception as exc:
                    raise ConfigError(
                        f"resource '{name}': could not fetch {text}: {exc}",
                        hint="check the URL, or download it and give the local path instead",
                    ) from exc
            out[name] = target
            continue
        path = os.path.abspath(os.path.join(base_dir, storage.local_path(text)))
        if not os.path.exists(path):
            raise missing_path_error(
                name, path, os.path.abspath(base_dir), (locations or {}).get(name)
            )
        out[name] = path
    return out


def local_path(location: Any, base_dir: str) -> str | None:
    """The absolute path of a local resource (None for a URL or a cluster-only path)."""
    from flambe import storage

    if isinstance(location, ClusterPath) or not storage.is_local(str(location)):
        return None
    return os.path.abspath(os.path.join(base_dir, storage.local_path(str(location))))


def resource_locations(resources: Mapping[str, Any]) -> dict[str, Any]:
    """Where each resource of a loaded config was written (flat or local/remote form)."""
    from flambe.compile.yaml import location_in

    where = {name: location_in(resources, name) for name in resources}
    for section in ("local", "remote"):
        inner = resources.get(section)
        if isinstance(inner, Mapping):
            where.update({name: location_in(inner, name) for name in inner})
    return where


def missing_path_error(name: str, path: str, base_dir: str, location: Any = None) -> ConfigError:
    """The error of a local resource whose path does not exist."""
    return ConfigError(
        f"resource '{name}': {path} does not exist",
        location,
        hint=f"fix the path; a relative path starts from the config's folder ({base_dir})",
    )


def missing_resources(
    resources: Mapping[str, Any], base_dir: str, fallback: Any = None
) -> list[ConfigError]:
    """Errors for the local resources whose path does not exist, each at its line.

    Parameters
    ----------
    resources : mapping
        The ``resources`` of an experiment as loaded (flat or local/remote form).
    base_dir : str
        The config's folder, where relative paths start.
    fallback : SourceLocation, optional
        Where to point when an entry's own place is unknown.

    """
    where = resource_locations(resources)
    problems: list[ConfigError] = []
    for name, location in flatten(resources).items():
        if not isinstance(location, str):
            continue  # a link or a component: known only once built
        path = local_path(location, base_dir)
        if path is not None and not os.path.exists(path):
            problems.append(missing_path_error(name, path, base_dir, where.get(name) or fallback))
    return problems


def _copy(src: str, dest: str) -> None:
    if os.path.isdir(src):
        shutil.copytree(src, dest)
    else:
        shutil.copyfile(src, dest)
