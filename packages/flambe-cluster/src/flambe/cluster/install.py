"""What to install on the hosts: the same Flambé distributions and versions as here.

Released versions are installed from the package index (``flambe-core==0.6.0``); editable
installs (a checkout) are built into wheels here, uploaded and installed from the files, so a
host runs exactly the code of this machine. Wheels are cached in the cluster's state folder
and rebuilt only when a file of the checkout changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from flambe.cluster.errors import ClusterError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LocalDistribution:
    """A Flambé distribution installed here.

    Attributes
    ----------
    name : str
        The distribution name (``flambe-core``).
    version : str
        Its version.
    source : str, optional
        The project folder when it is an editable install.

    """

    name: str
    version: str
    source: str | None = None

    @property
    def requirement(self) -> str:
        """The pip requirement of a released version."""
        return f"{self.name}=={self.version}"


def _editable_source(dist: metadata.Distribution) -> str | None:
    try:
        text = dist.read_text("direct_url.json")
    except OSError:
        return None
    if not text:
        return None
    info = json.loads(text)
    if not info.get("dir_info", {}).get("editable"):
        return None
    parsed = urllib.parse.urlparse(info.get("url", ""))
    if parsed.scheme != "file":
        return None
    return urllib.request.url2pathname(parsed.path)


def local_distributions() -> list[LocalDistribution]:
    """The Flambé distributions installed in this environment (``flambe-*``), by name."""
    found = {}
    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").lower().replace("_", "-")
        if name.startswith("flambe-") and name not in found:
            found[name] = LocalDistribution(name, dist.version, _editable_source(dist))
    return [found[n] for n in sorted(found)]


def _fingerprint(folder: str) -> str:
    digest = hashlib.sha1()
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
        for name in sorted(files):
            if name.startswith(".") or name.endswith((".pyc", ".whl")):
                continue
            path = os.path.join(root, name)
            stat = os.stat(path)
            digest.update(
                f"{os.path.relpath(path, folder)}:{stat.st_size}:{stat.st_mtime_ns}".encode()
            )
    return digest.hexdigest()[:16]


def build_wheels(dists: list[LocalDistribution], cache: Path) -> list[Path]:
    """Wheels of editable distributions, built (in one pip call) once per state of their files.

    Raises
    ------
    ClusterError
        The build failed (its output is in the message).

    """
    targets = {}
    for dist in dists:
        assert dist.source is not None
        targets[dist.name] = cache / f"{dist.name}-{_fingerprint(dist.source)}"
    missing = [d for d in dists if not list(targets[d.name].glob("*.whl"))]
    if missing:
        logger.info("Building wheels of %s", ", ".join(d.name for d in missing))
        with tempfile.TemporaryDirectory(
            dir=cache.parent if cache.parent.is_dir() else None
        ) as tmp:
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "wheel",
                    "--no-deps",
                    "--no-build-isolation",
                    "--disable-pip-version-check",
                    "-q",
                    "-w",
                    tmp,
                    *[str(d.source) for d in missing],
                ],
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise ClusterError(
                    "cannot build wheels of "
                    + ", ".join(d.name for d in missing)
                    + f":\n{done.stderr[-2000:]}",
                    hint="install hatchling here (pip install hatchling), or install released "
                    "versions of the Flambé distributions",
                )
            for dist in missing:
                prefix = dist.name.replace("-", "_") + "-"
                built = [p for p in Path(tmp).glob("*.whl") if p.name.startswith(prefix)]
                if not built:
                    raise ClusterError(f"building {dist.name} made no wheel")
                targets[dist.name].mkdir(parents=True, exist_ok=True)
                shutil.move(str(built[0]), targets[dist.name] / built[0].name)
    return [sorted(targets[d.name].glob("*.whl"))[0] for d in dists]


@dataclass
class InstallPlan:
    """What every host installs: requirement strings and wheel files (local paths)."""

    requirements: list[str]
    wheels: list[Path]

    def stamp(self) -> str:
        """Identifies the plan: a host that installed the same plan is skipped."""
        return hashlib.sha1(
            json.dumps(
                [
                    self.requirements,
                    [w.name for w in self.wheels],
                    [w.parent.name for w in self.wheels],
                ]
            ).encode()
        ).hexdigest()


def install_plan(cache: Path) -> InstallPlan:
    """Requirements of the released distributions and wheels of the editable ones."""
    requirements = [d.requirement for d in local_distributions() if not d.source]
    editable = [d for d in local_distributions() if d.source]
    cache.mkdir(parents=True, exist_ok=True)
    return InstallPlan(requirements, build_wheels(editable, cache) if editable else [])
