"""Tar archives of (part of) the output folder, streamed while they are written.

Nothing is held in memory beyond one chunk: each member's header comes from
:class:`tarfile.TarInfo` and its content is copied from the file chunk by
chunk, so a folder of many gigabytes streams as it is read. A file that grows
while it is sent (a live log) is cut at the size it had when its header was
written; one that shrinks is padded with zeros, so the archive stays valid.
"""

from __future__ import annotations

import fnmatch
import os
import tarfile
from collections.abc import Iterable, Iterator

CHUNK = 1 << 20
BLOCK = tarfile.BLOCKSIZE
LOG_EXCLUDED_FILES = ("*.pt", "*.pth", "*.ckpt", "*.pkl")
LOG_EXCLUDED_FOLDERS = ("checkpoint", "checkpoint_*", ".tune")


def is_log_file(relative: str) -> bool:
    """Whether a path belongs in a "logs only" archive (no weights, no checkpoint folders)."""
    parts = relative.split("/")
    if any(fnmatch.fnmatch(p, pattern) for p in parts[:-1] for pattern in LOG_EXCLUDED_FOLDERS):
        return False
    return not any(fnmatch.fnmatch(parts[-1], pattern) for pattern in LOG_EXCLUDED_FILES)


def members(folder: str, arc_root: str, logs_only: bool = False) -> Iterator[tuple[str, str]]:
    """(absolute path, name in the archive) of the files and folders under ``folder``.

    Symbolic links are skipped, never followed.
    """
    base = os.path.dirname(folder)
    for current, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(current, d)))
        relative_dir = os.path.relpath(current, base)
        if logs_only and not is_log_file(relative_dir.replace(os.sep, "/") + "/x"):
            dirs[:] = []
            continue
        yield current, _arcname(arc_root, relative_dir)
        for name in sorted(files):
            path = os.path.join(current, name)
            relative = os.path.relpath(path, base).replace(os.sep, "/")
            if os.path.islink(path) or (logs_only and not is_log_file(relative)):
                continue
            yield path, _arcname(arc_root, relative)


def _arcname(arc_root: str, relative: str) -> str:
    parts = relative.replace(os.sep, "/").split("/")
    parts[0] = arc_root
    return "/".join(parts)


def stream_tar(entries: Iterable[tuple[str, str]]) -> Iterator[bytes]:
    """Yield the bytes of a tar archive of ``entries``, chunk by chunk.

    Parameters
    ----------
    entries : iterable of (str, str)
        (absolute path, name in the archive) of regular files and folders.

    Yields
    ------
    bytes
        The archive, in pieces of at most about one MiB.

    """
    for path, arcname in entries:
        try:
            st = os.lstat(path)
        except OSError:
            continue
        info = tarfile.TarInfo(arcname)
        info.mtime = int(st.st_mtime)
        info.mode = st.st_mode & 0o777
        if os.path.isdir(path):
            info.type = tarfile.DIRTYPE
            info.size = 0
            yield info.tobuf(format=tarfile.PAX_FORMAT)
            continue
        if not os.path.isfile(path):
            continue
        info.size = st.st_size
        try:
            handle = open(path, "rb")
        except OSError:
            continue
        with handle:
            yield info.tobuf(format=tarfile.PAX_FORMAT)
            left = info.size
            while left > 0:
                chunk = handle.read(min(CHUNK, left))
                if not chunk:
                    break
                left -= len(chunk)
                yield chunk
            while left > 0:  # the file shrank: pad to the size announced
                pad = min(CHUNK, left)
                left -= pad
                yield b"\0" * pad
        remainder = info.size % BLOCK
        if remainder:
            yield b"\0" * (BLOCK - remainder)
    yield b"\0" * (2 * BLOCK)
