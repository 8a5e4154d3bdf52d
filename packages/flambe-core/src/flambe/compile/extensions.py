"""Extensions: user packages declared in the header of a configuration.

A configuration may start with an *extensions document*, one
``module_name: location`` entry per line, then ``---`` and the main object::

    my_ext: ./path/to/extension        # a local folder with a pyproject.toml/setup.py
    other_ext: https://github.com/user/repo/tree/main/ext
    third_ext: third-ext-dist==1.0     # a pip requirement
    ---
    !my_ext.MyRunnable
      param: !other_ext.Thing {}

The key is the *top-level import name* of the package (not its distribution
name); once it is imported, ``!my_ext.Class`` resolves inside that module.

Installing is pip's job: :func:`install_spec` only translates the locations
the original documentation accepted into requirement strings pip understands
(a GitHub folder URL becomes ``git+https://github.com/u/r@branch#subdirectory=dir``),
and :func:`ensure_extensions` runs ``python -m pip install`` with the running
interpreter. Nothing is cloned or cached by hand.
"""

from __future__ import annotations

import importlib
import importlib.util
import keyword
import logging
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, Union
from urllib.parse import urlsplit

from flambe.compile import extension_sources as sources
from flambe.errors import ExtensionError, SourceLocation

logger = logging.getLogger(__name__)

PathLike = Union[str, "os.PathLike[str]"]

# pip's own VCS schemes: passed through untouched
_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
# hosts whose https URLs are git repositories rather than downloadable files
_GIT_HOSTS = ("github.com", "gitlab.com", "bitbucket.org")
_INSTALL_HINT = "rerun with -i (--install-extensions) to let flambe install it"


# ---------------------------------------------------------------------------
# The header mapping
# ---------------------------------------------------------------------------


def parse_extensions(mapping: Any, file: PathLike | None = None) -> dict[str, str]:
    """Check an extensions header and return it as ``{module: location}``.

    Parameters
    ----------
    mapping : Any
        The first YAML document of a configuration (``None`` when absent).
    file : str or PathLike, optional
        The configuration file, named in errors.

    Returns
    -------
    dict
        Module name to location, both strings, in the header's order.

    Raises
    ------
    ExtensionError
        When the header is not a mapping, a key is not a valid top-level
        module name, or a location is empty.

    """
    if mapping is None:
        return {}
    if not isinstance(mapping, Mapping):
        raise ExtensionError(
            f"the extensions header must be a mapping of module names to locations, "
            f"not {type(mapping).__name__}",
            location=_location(file, 1),
            hint="write one 'module_name: location' entry per line, then '---' and the runnable",
        )
    result: dict[str, str] = {}
    for module, location in mapping.items():
        module = str(module)
        where = _location(file, find_header_line(file, module))
        if not _is_module_name(module):
            raise ExtensionError(
                f"extension key {module!r} is not a top-level module name",
                location=where,
                hint="use the name you would import (my_ext for 'import my_ext'), "
                "not the distribution name",
            )
        if location is None or not str(location).strip():
            raise ExtensionError(
                f"extension {module!r} has no location",
                location=where,
                hint="give a local folder, a pip requirement (pkg==1.0) or a git URL",
            )
        result[module] = str(location).strip()
    return result


def _is_module_name(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def find_header_line(file: PathLike | None, module: str) -> int | None:
    """The 1-based line of ``module:`` in the header of ``file``, if it can be found."""
    if file is None:
        return None
    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    pattern = re.compile(rf"^\s*['\"]?{re.escape(module)}['\"]?\s*:")
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() == "---":
            break
        if pattern.match(line):
            return number
    return None


def _location(file: PathLike | None, line: int | None) -> SourceLocation | None:
    if file is None:
        return None
    return SourceLocation(str(file), line or 1, 1)


# ---------------------------------------------------------------------------
# Locations -> pip requirement strings
# ---------------------------------------------------------------------------


def install_spec(location: str, base_dir: PathLike | None = None) -> str:
    """Translate an extension location into what ``pip install`` accepts.

    Each location and the requirement pip is given:

    * ``./ext``, ``/abs/ext``, ``~/ext`` (an existing folder): the absolute path;
    * ``pkg==1.0``, ``pkg>=1,<2``, ``pkg @ url``: unchanged;
    * ``git+https://...``, ``git+ssh://...`` (pip VCS): unchanged;
    * ``https://github.com/u/r``: ``git+https://github.com/u/r``;
    * ``https://github.com/u/r/tree/<branch>/<dir>``:
      ``git+https://github.com/u/r@<branch>#subdirectory=<dir>``;
    * ``ssh://git@github.com:u/r.git``: ``git+ssh://git@github.com/u/r.git``;
    * ``git@github.com:u/r.git``: ``git+ssh://git@github.com/u/r.git``.

    Other ``http(s)`` URLs (an archive or wheel) are passed as they are.

    Parameters
    ----------
    location : str
        The value of an extensions header entry.
    base_dir : str or PathLike, optional
        A second folder in which to look for a relative local path (the
        configuration's folder); the current directory is tried first.

    Returns
    -------
    str
        A requirement string for ``pip install``.

    Raises
    ------
    ExtensionError
        When the location looks like a local path that does not exist.

    """
    location = location.strip()
    if location.startswith(_VCS_PREFIXES):
        return location
    if " @ " in location or location.startswith("file:"):
        return location  # a direct reference, pip's own syntax
    scp = re.fullmatch(r"([\w.-]+)@([\w.-]+):(?!//)(.+)", location)
    if scp:  # git@github.com:user/repo.git, git's scp-like form
        user, host, path = scp.groups()
        return f"git+ssh://{user}@{host}/{path.lstrip('/')}"
    parts = urlsplit(location)
    scheme = parts.scheme.lower()
    if scheme == "ssh":
        return _ssh_spec(location)
    if scheme in ("http", "https"):
        return _http_spec(location)
    if _looks_like_path(location) or (
        base_dir is not None and _is_project_folder(Path(base_dir) / location)
    ):
        return str(_local_path(location, base_dir))
    return location  # a PyPI requirement such as pkg==1.0


def _ssh_spec(location: str) -> str:
    rest = location[len("ssh://") :]
    # ssh://git@github.com:user/repo.git uses ':' before the path; pip wants '/'
    match = re.fullmatch(r"([^/@]+@)?([^/:]+):(?!\d+/)(.+)", rest)
    if match:
        user, host, path = match.groups()
        rest = f"{user or ''}{host}/{path.lstrip('/')}"
    return f"git+ssh://{rest}"


def _http_spec(location: str) -> str:
    parts = urlsplit(location)
    host = parts.netloc.lower().split("@")[-1]
    path = parts.path.rstrip("/")
    if not (host in _GIT_HOSTS or path.endswith(".git")):
        return location  # an archive or wheel URL
    segments = [s for s in path.split("/") if s]
    subdirectory = None
    branch = None
    for marker in (["-", "tree"], ["tree"], ["src"]):  # gitlab: /-/tree/, github: /tree/
        size = len(marker)
        for i in range(2, len(segments) - size + 1):
            if segments[i : i + size] == marker and len(segments) > i + size:
                branch = segments[i + size]
                subdirectory = "/".join(segments[i + size + 1 :]) or None
                segments = segments[:i]
                break
        if branch:
            break
    repo = f"{parts.scheme}://{parts.netloc}/{'/'.join(segments)}"
    spec = f"git+{repo}"
    if branch:
        spec += f"@{branch}"
    if subdirectory:
        spec += f"#subdirectory={subdirectory}"
    return spec


def _looks_like_path(location: str) -> bool:
    return (
        location.startswith((".", "/", "~"))
        or os.sep in location
        or (os.altsep is not None and os.altsep in location)
        or _is_project_folder(Path(location))
    )


def _is_project_folder(path: Path) -> bool:
    return (path / "pyproject.toml").is_file() or (path / "setup.py").is_file()


def _local_path(location: str, base_dir: PathLike | None) -> Path:
    raw = Path(os.path.expanduser(location))
    candidates = [raw] if raw.is_absolute() else [Path.cwd() / raw]
    if base_dir is not None and not raw.is_absolute():
        candidates.append(Path(base_dir) / raw)
    for candidate in candidates:
        if candidate.exists():
            return candidate.resolve()
    tried = ", ".join(str(c) for c in candidates)
    raise ExtensionError(
        f"extension folder {location!r} does not exist (looked for {tried})",
        hint="give the folder that holds the extension's pyproject.toml or setup.py",
    )


# ---------------------------------------------------------------------------
# Import, install, ensure
# ---------------------------------------------------------------------------


def is_installed_module(name: str) -> bool:
    """Whether ``name`` can be imported (its spec is found), without importing it."""
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def import_modules(names: Iterable[str]) -> list[ModuleType]:
    """Import each module and make its classes available as ``!module.Class``.

    The root logger's handlers and level are restored after each import, so
    an extension that configures logging at import time cannot silence
    Flambé's own logs.

    Raises
    ------
    ExtensionError
        When a module cannot be imported.

    """
    modules = []
    importlib.invalidate_caches()
    root = logging.getLogger()
    for name in names:
        handlers, level = list(root.handlers), root.level
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise ExtensionError(
                    f"extension {name!r} cannot be imported: {exc}",
                    hint=f"install the package that provides {exc.name!r}",
                ) from exc
            raise ExtensionError(
                f"extension module {name!r} is not installed",
                hint=f"pip install it, or {_INSTALL_HINT}",
            ) from exc
        except Exception as exc:
            raise ExtensionError(
                f"extension {name!r} failed to import: {type(exc).__name__}: {exc}",
                hint="fix the error in the extension's code",
            ) from exc
        finally:
            root.handlers[:] = handlers
            root.setLevel(level)
        register_namespace(name)
        modules.append(module)
    return modules


def register_namespace(module_name: str) -> None:
    """Tell the tag registry that ``!module_name.X`` resolves inside that module."""
    try:
        from flambe.compile import registry
    except ImportError:  # the registry is optional for this module's own use
        return
    get_registry = getattr(registry, "get_registry", None)
    if get_registry is None:
        return
    add = getattr(get_registry(), "add_module_namespace", None)
    if add is not None:
        add(module_name)


def pip_command(specs: Sequence[str]) -> list[str]:
    """The command that installs ``specs`` with the running interpreter's pip."""
    return [sys.executable, "-m", "pip", "install", *specs]


def _shell(specs: Sequence[str], python: str | None = None) -> str:
    words = (
        ["pip", "install", *specs] if python is None else [python, "-m", "pip", "install", *specs]
    )
    return " ".join(shlex.quote(w) for w in words)


def install_extension(
    module: str, spec: str, where: SourceLocation | None = None, reinstall: bool = False
) -> None:
    """Install one extension with pip, and log every package pip replaced.

    With ``reinstall`` (a local folder installed before, whose content
    changed), pip is given ``--upgrade`` so that it replaces the installed
    copy even in a ``--target`` folder; pip always rebuilds a local folder.

    Raises
    ------
    ExtensionError
        When pip fails; the message holds the end of pip's output.

    """
    command = pip_command(["--upgrade", spec] if reinstall else [spec])
    logger.info("Installing extension %s: %s", module, " ".join(shlex.quote(c) for c in command))
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = proc.stdout or ""
    for line in output.splitlines():
        logger.debug("pip: %s", line)
    if proc.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-15:])
        raise ExtensionError(
            f"installing extension {module!r} from {spec!r} failed "
            f"(pip exited with {proc.returncode}):\n{tail}",
            location=where,
            hint=f"check the location; the command was: {_shell([spec], sys.executable)}",
        )
    for package in replaced_packages(output):
        logger.warning("Installing extension %s replaced %s", module, package)


def replaced_packages(pip_output: str) -> list[str]:
    """Packages pip reports as replaced (``Found existing installation: x 1.0``)."""
    found = re.findall(r"Found existing installation:\s*(.+?)\s*$", pip_output, re.MULTILINE)
    if found:
        return found
    return re.findall(r"Successfully uninstalled\s+(\S+)", pip_output)


def ensure_extensions(
    extensions: Mapping[str, str],
    install: bool = False,
    file: PathLike | None = None,
    lines: Mapping[str, int] | None = None,
) -> None:
    """Make every declared extension importable, and register its tags.

    Parameters
    ----------
    extensions : Mapping[str, str]
        Module name to location, as in a configuration header.
    install : bool
        Install the modules that are missing with ``python -m pip install``
        (the ``-i`` flag), and again the local folders whose content changed
        since they were installed. Without it a missing module is an error,
        and a changed folder a warning.
    file : str or PathLike, optional
        The configuration file: named in errors, and relative local paths
        are also looked for next to it.
    lines : Mapping[str, int], optional
        The line of each entry in ``file`` (found by reading the file otherwise).

    Raises
    ------
    ExtensionError
        A module is missing and ``install`` is false (the error names the
        module, the file and line, and the command to run), a location is
        invalid, pip fails, or a module cannot be imported after install.

    """
    extensions = parse_extensions(extensions, file)
    lines = dict(lines or {})

    def where(module: str) -> SourceLocation | None:
        return _location(file, lines.get(module) or find_header_line(file, module))

    base_dir = Path(file).parent if file is not None else None
    missing = [m for m in extensions if not is_installed_module(m)]
    local, copies, prints, stale = _local_copies(extensions, base_dir, install, missing)
    if install:  # an installed local folder whose content changed is installed again
        missing += stale
    else:
        for module in stale:
            _warn_stale(module, local[module], copies[module])
    if missing and not install:
        raise _not_installed(missing, extensions, base_dir, where(missing[0]))
    for module in missing:
        _install_one(module, extensions[module], base_dir, where(module), module in stale, local)
        if module in local:
            copies[module] = sources.write_record(local[module], prints[module])
    modules = import_modules(extensions)
    for imported in modules:
        _log_code_used(
            imported,
            local.get(imported.__name__),
            copies.get(imported.__name__),
            prints.get(imported.__name__),
        )


def _local_copies(
    extensions: Mapping[str, str], base_dir: Path | None, install: bool, missing: list[str]
) -> tuple[dict[str, Path], dict[str, sources.InstalledCopy | None], dict[str, str], list[str]]:
    """The local-folder extensions: their folders, install records, fingerprints, stale ones."""
    local = _local_folders(extensions, base_dir)
    copies = {m: sources.installed_from(folder) for m, folder in local.items()}
    # a folder is read only when there is something to compare it with
    prints = {
        m: sources.fingerprint(folder)
        for m, folder in local.items()
        if install or ((copy := copies[m]) is not None and copy.recorded)
    }
    stale = [
        m for m in prints if m not in missing and sources.is_stale(local[m], copies[m], prints[m])
    ]
    return local, copies, prints, stale


def _not_installed(
    missing: list[str],
    extensions: Mapping[str, str],
    base_dir: Path | None,
    location: SourceLocation | None,
) -> ExtensionError:
    """The error for modules that are missing while installing is not asked for."""
    specs = [_spec_for_message(extensions[m], base_dir) for m in missing]
    first = missing[0]
    names = ", ".join(repr(m) for m in missing)
    return ExtensionError(
        f"extension module{'s' if len(missing) > 1 else ''} {names} "
        f"{'are' if len(missing) > 1 else 'is'} not installed "
        f"(declared as '{first}: {extensions[first]}')",
        location=location,
        hint=f"run: {_shell(specs)}   or {_INSTALL_HINT}",
    )


def _install_one(
    module: str,
    declared: str,
    base_dir: Path | None,
    location: SourceLocation | None,
    again: bool,
    local: Mapping[str, Path],
) -> None:
    """Install one extension with pip (``again``: a local folder that changed) and check it."""
    try:
        spec = install_spec(declared, base_dir)
    except ExtensionError as exc:
        raise exc.at(location)  # noqa: B904 - the same error, now located
    if again:
        logger.info(
            "Extension %s: %s changed since it was installed; installing it again",
            module,
            local[module],
        )
    install_extension(module, spec, location, reinstall=again)
    importlib.invalidate_caches()
    if not is_installed_module(module):
        raise ExtensionError(
            f"pip installed {spec!r} but module {module!r} is still not importable",
            location=location,
            hint="the key must be the package's top-level import name, not its distribution name",
        )


def _local_folders(extensions: Mapping[str, str], base_dir: Path | None) -> dict[str, Path]:
    """Find the extensions whose location is a local folder, with that folder."""
    found: dict[str, Path] = {}
    for module, location in extensions.items():
        try:
            spec = install_spec(location, base_dir)
        except ExtensionError:
            continue  # reported when it is installed
        path = Path(spec)
        if path.is_absolute() and path.is_dir():
            found[module] = path
    return found


_warned: set = set()


def _warn_stale(module: str, folder: Path, copy: sources.InstalledCopy | None) -> None:
    """Say, once per process, that an installed local extension is older than its folder."""
    if copy is None or not copy.recorded or module in _warned:
        return  # run from the folder itself, or installed by hand: nothing to compare
    _warned.add(module)
    logger.warning(
        "Extension %s: %s changed since it was installed (%s); this run uses the "
        "installed copy. Rerun with -i to install it again.",
        module,
        folder,
        copy.recorded.get("installed", "at an unknown time"),
    )


def _log_code_used(
    module: ModuleType, folder: Path | None, copy: sources.InstalledCopy | None, print_: str | None
) -> None:
    """Log where the code of an extension comes from (file, distribution, source folder)."""
    where = getattr(module, "__file__", None) or "a namespace package"
    if folder is None:
        logger.info("Extension %s: code from %s", module.__name__, where)
    elif copy is None:
        logger.info(
            "Extension %s: code from %s (folder %s, content %s)",
            module.__name__,
            where,
            folder,
            (print_ or "")[:12],
        )
    elif copy.editable:
        logger.info(
            "Extension %s: code from %s (%s %s, editable install of %s)",
            module.__name__,
            where,
            copy.name,
            copy.version,
            folder,
        )
    else:
        recorded = copy.recorded or {}
        logger.info(
            "Extension %s: code from %s (%s %s, installed %s from %s, content %s)",
            module.__name__,
            where,
            copy.name,
            copy.version,
            recorded.get("installed", "by hand"),
            folder,
            str(recorded.get("fingerprint", "unknown"))[:12],
        )


def _spec_for_message(location: str, base_dir: Path | None) -> str:
    try:
        return install_spec(location, base_dir)
    except ExtensionError:
        return location
