"""Writing files so that readers and a later run never see half of one.

Every small document Flambé rewrites while it runs (``progress.json``,
``trial.json``, ``run.json``, ``experiment.yaml``) goes through
:func:`write_text_atomic`: the text is written to a temporary file in the
same folder, then renamed over the destination, so a kill at any instant
leaves either the old file or the new one. A kill (``kill -9``, Ctrl-C, a
crashed worker) does not lose what a process wrote, fsync or not: the
operating system still holds it. Only a power loss or a crash of the
machine can, and against that the file is synced to disk before the
rename, unless the caller passes ``sync=False`` (files rewritten on every
step, where a sync per write is most of the cost). A full disk
becomes a :class:`~flambe.errors.DiskFullError` that names the file and
the space left.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from typing import Any

from flambe.errors import DiskFullError
from flambe.utils.faults import fault_point

_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
# what torch's zip writer says when a write comes up short (a full disk)
_FULL_MESSAGES = ("unexpected pos", "file write failed", "no space left on device")


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or an error it was raised from) says the disk is full."""
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DiskFullError):
            return True
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return True
        if isinstance(current, RuntimeError) and any(
            m in str(current).lower() for m in _FULL_MESSAGES
        ):
            return True
        current = current.__cause__ or current.__context__
    return False


def free_space(path: str) -> int | None:
    """Bytes free for an unprivileged user on the file system holding ``path`` (None if unknown)."""
    probe = os.path.abspath(path)
    while probe and not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return None


def _size(count: int | None) -> str:
    if count is None:
        return "an unknown amount"
    value = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} bytes"  # pragma: no cover


def disk_full_error(path: str, what: str = "") -> DiskFullError:
    """Build the error saying that ``path`` could not be written because its disk is full.

    Parameters
    ----------
    path : str
        The file or folder that could not be written.
    what : str
        What it is (``"the checkpoint of train/lr=0.1"``), put before the path.

    """
    where = f"{what} {path}" if what else path
    free = free_space(path)
    return DiskFullError(
        f"no space left on device: could not write {where} ({_size(free)} free there)",
        hint="free some space (or point save_path at a larger disk) and run the same command "
        "again: everything that finished before this write is kept and will not be redone",
    )


_UMASK: int | None = None


def _umask() -> int:
    """Return the umask (read once: setting it in order to read it is not thread-safe)."""
    global _UMASK
    if _UMASK is None:
        try:
            with open("/proc/self/status", encoding="ascii") as handle:
                found = [line.split()[1] for line in handle if line.startswith("Umask:")]
            _UMASK = int(found[0], 8)
        except (OSError, IndexError, ValueError):
            _UMASK = os.umask(0o022)
            os.umask(_UMASK)
    return _UMASK


def write_text_atomic(path: str, text: str, mode: int | None = None, sync: bool = True) -> None:
    """Replace ``path`` by ``text`` in one step (readers see the old or the new file).

    Parameters
    ----------
    path : str
        The file to write; its folder must exist.
    text : str
        The new content (UTF-8).
    mode : int, optional
        Permission bits of the new file (default: what the umask gives).
    sync : bool
        Sync the new file to disk before the rename (against a power loss;
        a kill does not need it).

    Raises
    ------
    DiskFullError
        The file system is full; ``path`` still holds its previous content.

    """
    folder = os.path.dirname(os.path.abspath(path))
    name = os.path.basename(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        os.fchmod(fd, mode if mode is not None else 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            fault_point("atomic.written", path)
            if sync:
                os.fsync(handle.fileno())
        fault_point(f"atomic.replace:{name}", path)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError) and is_disk_full(exc) and not isinstance(exc, DiskFullError):
            raise disk_full_error(path) from exc
        raise


def write_json_atomic(path: str, data: Any, sync: bool = True) -> None:
    """Write ``data`` as indented JSON with :func:`write_text_atomic` (``sync`` as there)."""
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=False, default=str), sync=sync)


def remove_stale_temps(folder: str) -> list[str]:
    """Remove the temporary files a killed :func:`write_text_atomic` left in ``folder``.

    Call it only while no other process writes there (under the output
    folder's lock). Returns the paths removed.
    """
    removed: list[str] = []
    try:
        entries = os.listdir(folder)
    except OSError:
        return removed
    for entry in entries:
        if entry.startswith(".") and entry.endswith(".tmp") and entry.count(".") >= 3:
            path = os.path.join(folder, entry)
            try:
                if os.path.isfile(path):
                    os.remove(path)
                    removed.append(path)
            except OSError:
                pass
    return removed
