"""Confine every path that comes from a URL (or from a file the site reads) to the output folder.

A path is refused (``None``) when it is absolute, climbs with ``..``, holds
a NUL byte or a backslash, or resolves (symbolic links followed) to a place
outside the folder.
"""

from __future__ import annotations

import os


def confine(root: str, *parts: str) -> str | None:
    """Return the real path of ``root/parts...`` when it stays inside ``root``, else ``None``.

    Parameters
    ----------
    root : str
        The output folder (already a real, absolute path).
    *parts : str
        Relative path pieces, e.g. a stage name and a variant folder name.

    Returns
    -------
    str or None
        The resolved path, or ``None`` for anything that would leave ``root``.
        The path need not exist.

    """
    for part in parts:
        if not isinstance(part, str) or not part or "\x00" in part or "\\" in part:
            return None
        if os.path.isabs(part) or part.startswith("~"):
            return None
        if any(piece == ".." for piece in part.split("/")):
            return None
    candidate = os.path.realpath(os.path.join(root, *parts))
    if candidate != root and not candidate.startswith(root.rstrip(os.sep) + os.sep):
        return None
    return candidate


def rebase(root: str, recorded_root: str | None, path: str | None) -> str | None:
    """Map a path recorded by the run (maybe on another machine) into ``root``, confined.

    ``progress.json`` records absolute paths of the machine that ran the
    experiment; the site may read a copy of the folder elsewhere.

    Parameters
    ----------
    root : str
        The output folder the site serves.
    recorded_root : str, optional
        The output folder as the run recorded it (``progress.json``'s ``output_path``).
    path : str, optional
        A recorded path, e.g. a checkpoint folder.

    Returns
    -------
    str or None
        The confined local path, or ``None`` when it is not inside the folder.

    """
    if not path:
        return None
    for base in (recorded_root, root):
        if base and (path == base or path.startswith(base.rstrip("/") + "/")):
            relative = os.path.relpath(path, base)
            return root if relative == "." else confine(root, relative)
    return None
