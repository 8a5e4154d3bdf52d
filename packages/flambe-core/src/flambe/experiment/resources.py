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
from typing import Any, Dict, Mapping, Optional

from flambe.errors import ConfigError


def flatten(resources: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """``{name: location}`` from either the flat or the docs' local/remote form."""
    if not resources:
        return {}
    if set(resources) <= {"local", "remote"} and all(isinstance(v, Mapping) or v is None
                                                     for v in resources.values()):
        flat: Dict[str, Any] = {}
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


def materialize(resources: Mapping[str, Any], base_dir: str = ".") -> Dict[str, str]:
    """Local paths for every resource (downloading URLs once).

    Raises
    ------
    ConfigError
        A local path that does not exist, a cluster-only path in a local run,
        or a URL that cannot be fetched.

    """
    from flambe import storage
    out: Dict[str, str] = {}
    for name, location in resources.items():
        if isinstance(location, ClusterPath):
            raise ConfigError(f"resource '{name}' ({location}) lives on a cluster only",
                              hint="run with --cluster, or give a local path")
        text = str(location)
        if not storage.is_local(text):
            target = os.path.join(_cache_dir(), hashlib.sha1(text.encode()).hexdigest()[:16],
                                  os.path.basename(text.rstrip("/")) or name)
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
                    raise ConfigError(f"resource '{name}': could not fetch {text}: {exc}",
                                      hint="check the URL, or download it and give the local "
                                           "path instead") from exc
            out[name] = target
            continue
        path = os.path.abspath(os.path.join(base_dir, storage.local_path(text)))
        if not os.path.exists(path):
            raise ConfigError(f"resource '{name}': {path} does not exist",
                              hint="fix the path (relative paths start from the folder you run "
                                   "flambe in)")
        out[name] = path
    return out


def _copy(src: str, dest: str) -> None:
    if os.path.isdir(src):
        shutil.copytree(src, dest)
    else:
        shutil.copyfile(src, dest)
