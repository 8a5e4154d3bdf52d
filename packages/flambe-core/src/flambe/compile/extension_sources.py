"""Which code a local-folder extension runs: the folder's content when it was installed.

``pip install ./my_ext`` copies the folder's code into the environment; an
edit made to the folder afterwards is not seen until it is installed again.
When Flambé installs a local folder (``-i``), it writes a small record into
the installed distribution's ``.dist-info`` folder: the source folder and a
fingerprint of its content (every file but build outputs and caches). Later
runs compare the folder with that record: with ``-i`` a folder whose content
changed is installed again; without it a warning says the installed copy is
stale. Each run logs which code every extension came from.

The distribution installed from a folder is found through the
``direct_url.json`` pip writes for it (PEP 610), so the extension's import
name need not match its distribution name.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

logger = logging.getLogger(__name__)

RECORD_FILE = "flambe_extension.json"
# folders and files that are build outputs or caches, not the extension's content
_SKIPPED_DIRS = {
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    "build",
    "dist",
    ".venv",
    "venv",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "node_modules",
    ".eggs",
}
_SKIPPED_SUFFIXES = (".pyc", ".pyo", ".egg-info")


def fingerprint(folder: Path) -> str:
    """Hash (SHA-256, hex) the relative paths and bytes of every file of ``folder``.

    Build outputs, caches and version-control folders are left out, so that
    building or installing the folder does not change its fingerprint.
    """
    digest = hashlib.sha256()
    root = Path(folder)
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(
            d for d in dirs if d not in _SKIPPED_DIRS and not d.endswith(_SKIPPED_SUFFIXES)
        )
        for name in sorted(files):
            if name.endswith(_SKIPPED_SUFFIXES):
                continue
            path = Path(current) / name
            relative = path.relative_to(root).as_posix()
            digest.update(relative.encode("utf-8") + b"\0")
            try:
                digest.update(path.read_bytes())
            except OSError:  # a broken link or a file removed meanwhile
                digest.update(b"<unreadable>")
            digest.update(b"\0")
    return digest.hexdigest()


@dataclass
class InstalledCopy:
    """The distribution installed from a local folder, and what Flambé recorded of it.

    Parameters
    ----------
    name, version : str
        The distribution's name and version.
    info_dir : Path
        Its ``.dist-info`` folder.
    editable : bool
        Installed in editable mode (``pip install -e``): it runs the folder's code.
    recorded : dict, optional
        The record written when Flambé installed it (``source``,
        ``fingerprint``, ``installed``); ``None`` when someone else installed it.

    """

    name: str
    version: str
    info_dir: Path
    editable: bool
    recorded: dict | None


def _folder_of_url(url: str) -> Path | None:
    parts = urlsplit(url)
    if parts.scheme != "file":
        return None
    return Path(unquote(parts.path))


def installed_from(folder: Path) -> InstalledCopy | None:
    """Find the installed distribution whose ``direct_url.json`` points to ``folder``."""
    target = Path(folder).resolve()
    for dist in metadata.distributions():
        text = dist.read_text("direct_url.json")
        if not text:
            continue
        try:
            direct = json.loads(text)
        except ValueError:
            continue
        source = _folder_of_url(str(direct.get("url", "")))
        if source is None or source.resolve() != target:
            continue
        info_dir = _info_dir(dist)
        if info_dir is None:
            continue
        recorded = None
        raw = dist.read_text(RECORD_FILE)
        if raw:
            try:
                recorded = json.loads(raw)
            except ValueError:
                recorded = None
        editable = bool((direct.get("dir_info") or {}).get("editable"))
        return InstalledCopy(dist.metadata["Name"], dist.version, info_dir, editable, recorded)
    return None


def _info_dir(dist: Any) -> Path | None:
    path = getattr(dist, "_path", None)  # PathDistribution: the .dist-info folder
    if path is not None:
        return Path(path)
    for file in dist.files or []:
        if file.name == "METADATA":
            return Path(dist.locate_file(file)).parent
    return None


def write_record(folder: Path, print_: str | None = None) -> InstalledCopy | None:
    """Record ``folder``'s fingerprint in the distribution just installed from it.

    Parameters
    ----------
    folder : Path
        The local folder pip installed.
    print_ : str, optional
        The fingerprint, when already computed.

    Returns
    -------
    InstalledCopy, optional
        The installed distribution (``None`` when none points to ``folder``).

    """
    copy = installed_from(folder)
    if copy is None:
        return None
    record = {
        "source": str(Path(folder).resolve()),
        "fingerprint": print_ or fingerprint(folder),
        "installed": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    try:
        (copy.info_dir / RECORD_FILE).write_text(json.dumps(record, indent=2) + "\n")
    except OSError as exc:
        logger.warning("could not record the source of %s in %s: %s", copy.name, copy.info_dir, exc)
        return copy
    copy.recorded = record
    return copy


def is_stale(folder: Path, copy: InstalledCopy | None, current: str) -> bool:
    """Whether the installed ``copy`` may not hold ``folder``'s current content.

    An editable install never is; a copy Flambé did not record (installed by
    hand, or by an older Flambé) is treated as stale, since nothing says
    which content it holds.
    """
    if copy is None:
        return True
    if copy.editable:
        return False
    return not copy.recorded or copy.recorded.get("fingerprint") != current
