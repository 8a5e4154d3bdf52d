"""What a run ran on: ``environment.json`` beside ``run.json`` in the output folder.

Every run of an experiment records, so that ``flambe reproduce`` can rerun
it and say what changed since:

* the git commit and uncommitted diff of the repository holding the config
  (when it is in one and git is installed; the git CLI is given a timeout);
* the installed distributions and their versions (``importlib.metadata``);
* the Python, torch and CUDA versions and the platform;
* a fingerprint (SHA-256) of every local resource, file or folder.

Hashing a large resource is done once: file hashes are cached by path, size
and modification time in ``<flambe home>/cache/file-hashes.json``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger(__name__)

RECORD_FILE = "environment.json"
SCHEMA_VERSION = 1
GIT_TIMEOUT_S = 10.0
MAX_DIFF_BYTES = 2_000_000
CACHE_FILE = "file-hashes.json"
MAX_CACHE_ENTRIES = 20_000
# a folder of more files is remembered as a whole (by the sizes and times of its files), not file
# by file: a change in it is read again in full, and the cache stays small
MAX_FILES_CACHED = 2_000
FOLDER_KEY = "folder:"
_CHUNK = 1 << 20


# ---------------------------------------------------------------------------
# resource fingerprints
# ---------------------------------------------------------------------------


class HashCache:
    """SHA-256 of files, remembered by absolute path, size and modification time.

    Parameters
    ----------
    path : str, optional
        The JSON file the cache lives in (default
        ``<flambe home>/cache/file-hashes.json``).

    """

    def __init__(self, path: str | None = None) -> None:
        if path is None:
            from flambe.utils.paths import flambe_home

            path = os.path.join(str(flambe_home()), "cache", CACHE_FILE)
        self.path = path
        self.entries: dict[str, list[Any]] = {}
        self.changed = False
        try:
            with open(path, encoding="utf-8") as handle:
                loaded = json.load(handle)
            if isinstance(loaded, dict):
                self.entries = loaded
        except (OSError, ValueError):
            pass

    def lookup(self, key: str, size: int, stamp: int | str) -> str | None:
        """The hash remembered for ``key`` with this size and stamp (marked as recently used)."""
        known = self.entries.pop(key, None)
        if known is None:
            return None
        self.entries[key] = known  # most recently used last: the oldest go first
        if known[0] == size and known[1] == stamp:
            return str(known[2])
        return None

    def remember(self, key: str, size: int, stamp: int | str, value: str) -> None:
        """Remember a hash."""
        self.entries.pop(key, None)
        self.entries[key] = [size, stamp, value]
        self.changed = True

    def file_hash(self, path: str, remember: bool = True) -> str:
        """The SHA-256 of a file's content, read only when its size or mtime changed."""
        stat = os.stat(path)
        key = os.path.abspath(path)
        known = self.lookup(key, stat.st_size, stat.st_mtime_ns)
        if known is not None:
            return known
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(chunk)
        value = digest.hexdigest()
        if remember:
            self.remember(key, stat.st_size, stat.st_mtime_ns, value)
        return value

    def save(self) -> None:
        """Write the cache back when it learned something (a failure is only logged)."""
        if not self.changed:
            return
        from flambe.utils.atomic import write_json_atomic

        if len(self.entries) > MAX_CACHE_ENTRIES:  # keep the most recently used
            self.entries = dict(list(self.entries.items())[-MAX_CACHE_ENTRIES:])
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            write_json_atomic(self.path, self.entries)
            self.changed = False
        except OSError as exc:
            logger.debug("file hash cache not written to %s: %s", self.path, exc)


def fingerprint(path: str, cache: HashCache | None = None) -> dict[str, Any]:
    """The fingerprint of a file or folder: kind, SHA-256, size and (folders) file count.

    A folder's hash covers the relative path and content of every file
    under it, in sorted order; symbolic links are followed.

    Parameters
    ----------
    path : str
        A local file or folder.
    cache : HashCache, optional
        Where file hashes are remembered (a fresh default one otherwise).

    Returns
    -------
    dict
        ``{"path", "kind": "file" | "folder" | "missing", "sha256", "size", "files"}``.

    """
    cache = cache if cache is not None else HashCache()
    path = os.path.abspath(path)
    if os.path.isfile(path):
        return {
            "path": path,
            "kind": "file",
            "sha256": cache.file_hash(path),
            "size": os.path.getsize(path),
        }
    if not os.path.isdir(path):
        return {"path": path, "kind": "missing", "sha256": None}
    listing: list[tuple[str, str, int, int]] = []  # relative path, full path, size, mtime
    for root, dirs, files in os.walk(path, followlinks=True):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(root, name)
            try:
                stat = os.stat(full)
            except OSError:
                continue
            if os.path.isfile(full):
                relative = os.path.relpath(full, path).replace(os.sep, "/")
                listing.append((relative, full, stat.st_size, stat.st_mtime_ns))
    size, count = sum(entry[2] for entry in listing), len(listing)
    stamp = hashlib.sha1("\n".join(f"{r}\0{s}\0{m}" for r, _, s, m in listing).encode()).hexdigest()
    value = cache.lookup(FOLDER_KEY + path, size, stamp)
    if value is None:
        digest = hashlib.sha256()
        for relative, full, _, _ in listing:
            file_hash = cache.file_hash(full, remember=count <= MAX_FILES_CACHED)
            digest.update(f"{relative}\0{file_hash}\n".encode())
        value = digest.hexdigest()
        cache.remember(FOLDER_KEY + path, size, stamp, value)
    return {
        "path": path,
        "kind": "folder",
        "sha256": value,
        "size": size,
        "files": count,
    }


def resource_fingerprints(resources: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """A fingerprint of every local resource (name -> local path), with one shared cache."""
    cache = HashCache()
    out: dict[str, dict[str, Any]] = {}
    for name, path in resources.items():
        try:
            out[name] = fingerprint(str(path), cache)
        except OSError as exc:
            out[name] = {"path": str(path), "kind": "unreadable", "sha256": None, "error": str(exc)}
    cache.save()
    return out


# ---------------------------------------------------------------------------
# code, packages, platform
# ---------------------------------------------------------------------------


def _git(folder: str, *args: str) -> str | None:
    """The output of one git command in ``folder`` (None when it fails or times out)."""
    try:
        done = subprocess.run(
            ["git", "-C", folder, *args],
            capture_output=True,
            timeout=GIT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        logger.debug("git %s in %s: %s", " ".join(args), folder, exc)
        return None
    if done.returncode != 0:
        return None
    return done.stdout.decode("utf-8", errors="replace")


def git_state(folder: str) -> dict[str, Any] | None:
    """The git commit, branch and uncommitted changes of the repository holding ``folder``.

    Returns
    -------
    dict or None
        None when git is not installed or ``folder`` is in no repository;
        else ``root``, ``commit`` (None before the first commit), ``branch``,
        ``dirty``, ``diff`` (``git diff HEAD``, cut at 2 MB), ``diff_sha256``
        and ``untracked`` (files git does not ignore but does not track).

    """
    if shutil.which("git") is None or not os.path.isdir(folder):
        return None
    root = _git(folder, "rev-parse", "--show-toplevel")
    if not root:
        return None
    commit = _git(folder, "rev-parse", "--verify", "-q", "HEAD")
    branch = _git(folder, "rev-parse", "--abbrev-ref", "HEAD")
    diff = _git(folder, "diff", "HEAD", "--no-color", "--no-ext-diff") if commit else None
    untracked = _git(folder, "ls-files", "--others", "--exclude-standard")
    diff = diff or ""
    truncated = len(diff.encode()) > MAX_DIFF_BYTES
    return {
        "root": root.strip(),
        "commit": commit.strip() if commit else None,
        "branch": branch.strip() if branch else None,
        "dirty": bool(diff) or bool(untracked and untracked.strip()),
        "diff": diff.encode()[:MAX_DIFF_BYTES].decode("utf-8", errors="ignore")
        if truncated
        else diff,
        "diff_truncated": truncated,
        "diff_sha256": hashlib.sha256(diff.encode()).hexdigest(),
        "untracked": sorted(line for line in (untracked or "").splitlines() if line),
    }


_DISTRIBUTIONS: dict[tuple[tuple[str, int], ...], dict[str, str]] = {}


def _path_state() -> tuple[tuple[str, int], ...]:
    """The folders of ``sys.path`` with their modification times (an install changes one)."""
    state = []
    for folder in sys.path:
        try:
            state.append((folder, os.stat(folder or ".").st_mtime_ns))
        except OSError:
            continue
    return tuple(state)


def distributions() -> dict[str, str]:
    """Every installed distribution and its version (what ``pip freeze`` lists).

    Read once per process while no folder of ``sys.path`` changes (an
    install or uninstall changes its folder).
    """
    key = _path_state()
    if key not in _DISTRIBUTIONS:
        _DISTRIBUTIONS.clear()
        _DISTRIBUTIONS[key] = _read_distributions()
    return dict(_DISTRIBUTIONS[key])


def _read_distributions() -> dict[str, str]:
    from importlib import metadata

    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"] if dist.metadata else None
        if name:
            found.setdefault(str(name), str(dist.version))
    return dict(sorted(found.items(), key=lambda item: item[0].lower()))


def torch_versions() -> dict[str, Any]:
    """torch, CUDA and cuDNN versions, and whether a GPU is visible (None without torch)."""
    try:
        import torch
    except ImportError:
        return {"torch": None, "cuda": None, "cudnn": None, "cuda_available": False}
    cudnn = None
    try:
        backend = torch.backends.cudnn
        cudnn = backend.version() if backend.is_available() else None  # type: ignore[no-untyped-call]
    except Exception:  # pragma: no cover - a broken CUDA install
        cudnn = None
    available = bool(torch.cuda.is_available())
    return {
        "torch": str(torch.__version__),
        "cuda": torch.version.cuda,
        "cudnn": cudnn,
        "cuda_available": available,
        "gpus": int(torch.cuda.device_count()) if available else 0,
    }


def platform_info() -> dict[str, Any]:
    """Python's version and implementation, and the operating system and machine."""
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "system": platform.system(),
        "release": platform.release(),
        "machine": platform.machine(),
        "platform": platform.platform(),
    }


# ---------------------------------------------------------------------------
# the record
# ---------------------------------------------------------------------------


def class_versions(pipeline: Any) -> dict[str, str]:
    """``module:Class`` -> its version in variant identities, for every class of a pipeline."""
    from flambe.experiment import identity

    return identity.class_versions(pipeline)


def collect(
    config_file: str | None, resources: Mapping[str, str], pipeline: Any = None
) -> dict[str, Any]:
    """The environment record of a run (see the module documentation).

    Parameters
    ----------
    config_file : str, optional
        The config the experiment was loaded from; its repository is recorded.
    resources : mapping
        Resource name -> local path (as materialized for the run).
    pipeline : mapping, optional
        The stages: the versions of their classes are recorded.

    """
    folder = os.path.dirname(os.path.abspath(config_file)) if config_file else os.getcwd()
    return {
        "schema_version": SCHEMA_VERSION,
        "recorded": time.time(),
        "command": list(sys.argv),
        "cwd": os.getcwd(),
        "config_file": os.path.abspath(config_file) if config_file else None,
        "git": git_state(folder),
        **torch_versions(),
        **platform_info(),
        "distributions": distributions(),
        "resources": resource_fingerprints(resources),
        "class_versions": class_versions(pipeline) if pipeline is not None else {},
    }


def record_environment(
    output: str, config_file: str | None, resources: Mapping[str, str], pipeline: Any = None
) -> dict[str, Any] | None:
    """Write ``environment.json`` in an output folder; returns the record.

    A record that cannot be made is a warning, never a failed run (a full
    disk aside, which the next write would hit as well).
    """
    from flambe.errors import DiskFullError
    from flambe.utils.atomic import write_json_atomic

    try:
        record = collect(config_file, resources, pipeline)
        write_json_atomic(os.path.join(output, RECORD_FILE), record)
        return record
    except DiskFullError:
        raise
    except Exception as exc:
        logger.warning("the environment of this run could not be recorded: %s", exc)
        return None


def read_record(output: str) -> dict[str, Any] | None:
    """The environment record of an output folder (None when it has none)."""
    path = os.path.join(output, RECORD_FILE)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as handle:
        loaded = json.load(handle)
    return loaded if isinstance(loaded, dict) else None


# ---------------------------------------------------------------------------
# what differs
# ---------------------------------------------------------------------------

_SCALARS = (
    ("python", "Python"),
    ("implementation", "Python implementation"),
    ("torch", "torch"),
    ("cuda", "CUDA"),
    ("cudnn", "cuDNN"),
    ("cuda_available", "GPU available"),
    ("gpus", "GPUs"),
    ("system", "operating system"),
    ("machine", "machine"),
    ("platform", "platform"),
)
MAX_LISTED = 12


def differences(recorded: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """What differs between two environment records, one sentence each (empty: nothing).

    Parameters
    ----------
    recorded : mapping
        The record of the earlier run.
    current : mapping
        The record of now (the same resources fingerprinted again).

    """
    out: list[str] = []
    for key, label in _SCALARS:
        if key in recorded and recorded.get(key) != current.get(key):
            out.append(f"{label}: {recorded.get(key)} then, {current.get(key)} now")
    out.extend(_git_differences(recorded.get("git"), current.get("git")))
    out.extend(_class_differences(recorded.get("class_versions"), current.get("class_versions")))
    out.extend(
        _distribution_differences(recorded.get("distributions"), current.get("distributions"))
    )
    before = recorded.get("resources") or {}
    after = current.get("resources") or {}
    for name, then in before.items():
        now = after.get(name) or {}
        if now.get("kind") in (None, "missing", "unreadable"):
            out.append(f"resource '{name}': {then.get('path')} is gone")
        elif then.get("sha256") != now.get("sha256"):
            what = "folder" if now.get("kind") == "folder" else "file"
            out.append(
                f"resource '{name}': the {what} {now.get('path')} changed "
                f"(sha256 {str(then.get('sha256'))[:12]} then, {str(now.get('sha256'))[:12]} now)"
            )
    return out


def _git_differences(then: Any, now: Any) -> list[str]:
    if not then:
        return []
    if not now:
        return [
            f"git: the config was in {then.get('root')} at commit {then.get('commit')}; "
            "no repository is found now"
        ]
    out = []
    if then.get("commit") != now.get("commit"):
        out.append(f"git commit: {then.get('commit')} then, {now.get('commit')} now")
    if then.get("diff_sha256") != now.get("diff_sha256"):
        out.append(
            "git: the uncommitted changes differ (the recorded ones are in environment.json, "
            "'git.diff')"
        )
    return out


def _class_differences(then: Any, now: Any) -> list[str]:
    from flambe.experiment.code_versions import split_version

    if not isinstance(then, Mapping) or not isinstance(now, Mapping):
        return []
    out = []
    for name in sorted(set(then) & set(now)):
        if then[name] == now[name]:
            continue
        (old_version, old_code), (new_version, new_code) = (
            split_version(str(then[name])),
            split_version(str(now[name])),
        )
        if old_version != new_version:
            out.append(f"class {name}: version {old_version} then, {new_version} now")
        if old_code != new_code:
            out.append(f"class {name}: its source code changed")
    return out


def _distribution_differences(then: Any, now: Any) -> list[str]:
    if not isinstance(then, Mapping) or not isinstance(now, Mapping):
        return []
    changed = [f"{n} {then[n]} -> {now[n]}" for n in then if n in now and then[n] != now[n]]
    gone = [f"{n} {then[n]}" for n in then if n not in now]
    new = [f"{n} {now[n]}" for n in now if n not in then]
    out = []
    for label, items in (("changed", changed), ("no longer installed", gone), ("new", new)):
        if items:
            shown = ", ".join(items[:MAX_LISTED])
            more = len(items) - MAX_LISTED
            out.append(
                f"distributions {label}: {shown}" + (f" (and {more} more)" if more > 0 else "")
            )
    return out


def current_like(recorded: Mapping[str, Any], pipeline: Any = None) -> dict[str, Any]:
    """The record of now, for the same config folder and resource paths as ``recorded``.

    Parameters
    ----------
    recorded : mapping
        An environment record.
    pipeline : mapping, optional
        The stages as loaded now, whose class versions are compared.

    """
    resources = {
        name: info.get("path")
        for name, info in (recorded.get("resources") or {}).items()
        if info.get("path")
    }
    return collect(recorded.get("config_file"), resources, pipeline)
