"""Where saves live: local paths and URLs, through pluggable storage backends.

A backend serves one URL scheme. Core provides ``file://`` (and plain
paths) and read-only ``http(s)://``; plugins add others through the
``flambe_storage_backends`` hook (``s3://`` comes with flambe-cluster).
:func:`open_local` is what loaders use: it yields a local path for any
supported location, downloading to a temporary folder when needed.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Iterator

from flambe.errors import FlambeError


class StorageError(FlambeError):
    """A location cannot be read or written."""


class StorageBackend(ABC):
    """Reads and writes the locations of one URL scheme."""

    @abstractmethod
    def exists(self, url: str) -> bool:
        """Whether something (a file or a folder) is at ``url``."""

    @abstractmethod
    def download(self, url: str, dest: str) -> str:
        """Copy what is at ``url`` to the local path ``dest``; returns ``dest``.

        Raises
        ------
        StorageError
            Nothing is at ``url`` or it cannot be reached.

        """

    @abstractmethod
    def upload(self, src: str, url: str) -> None:
        """Copy the local file or folder ``src`` to ``url``."""


def local_path(url: str) -> str:
    """Return the local path of a ``file://`` URL or of a plain path (``~`` expanded)."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise StorageError(
                f"{url!r} names host {parsed.netloc!r}; file:// URLs must be local",
                hint="write file:///absolute/path",
            )
        return urllib.request.url2pathname(parsed.path)
    return os.path.expanduser(url)


class LocalBackend(StorageBackend):
    """Plain paths and ``file://`` URLs."""

    def exists(self, url: str) -> bool:
        """Whether the local path exists."""
        return os.path.exists(local_path(url))

    def download(self, url: str, dest: str) -> str:
        """Copy the local file or folder to ``dest``."""
        src = local_path(url)
        if not os.path.exists(src):
            raise StorageError(f"path {src!r} does not exist locally")
        _copy(src, dest)
        return dest

    def upload(self, src: str, url: str) -> None:
        """Copy ``src`` to the local path, creating its parent folders."""
        dest = local_path(url)
        os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
        _copy(src, dest)


def _copy(src: str, dest: str) -> None:
    if os.path.isdir(src):
        shutil.copytree(src, dest, dirs_exist_ok=True)
    else:
        shutil.copyfile(src, dest)


class HTTPBackend(StorageBackend):
    """Download-only ``http://`` and ``https://`` (a single file, such as a ``.tar.gz`` save)."""

    timeout = 60.0

    def exists(self, url: str) -> bool:
        """Whether the server answers a HEAD (or GET) request with success."""
        request = urllib.request.Request(url, method="HEAD")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout):
                return True
        except urllib.error.HTTPError as exc:
            if exc.code == 405:  # HEAD not allowed: try a GET
                try:
                    with urllib.request.urlopen(url, timeout=self.timeout):
                        return True
                except (urllib.error.URLError, OSError):
                    return False
            return False
        except (urllib.error.URLError, OSError):
            return False

    def download(self, url: str, dest: str) -> str:
        """Stream the response body to ``dest``."""
        try:
            with (
                urllib.request.urlopen(url, timeout=self.timeout) as response,
                open(dest, "wb") as out,
            ):
                shutil.copyfileobj(response, out, length=1 << 20)
        except urllib.error.HTTPError as exc:
            _remove(dest)
            raise StorageError(
                f"HTTP url {url!r} is not available: the server answered {exc.code} {exc.reason}"
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            _remove(dest)
            reason = getattr(exc, "reason", exc)
            raise StorageError(
                f"HTTP url {url!r} cannot be reached: {reason}",
                hint="check the address and the network connection",
            ) from exc
        return dest

    def upload(self, src: str, url: str) -> None:
        """Refuse: http(s) locations are read-only."""
        raise StorageError(
            f"cannot upload to {url!r}: http(s) locations are read-only",
            hint="save to a local path or to a writable scheme such as s3://",
        )


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(path)


_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def scheme_of(url: str) -> str:
    r"""Return the lower-case scheme of a ``scheme://`` URL, ``''`` for plain paths.

    Only ``scheme://`` makes a URL: ``C:\models`` (a Windows drive) and
    ``runs/a:b`` are paths.
    """
    match = _URL.match(os.fspath(url))
    if match is None or len(match.group(1)) <= 1:
        return ""
    return match.group(1).lower()


def is_local(url: str) -> bool:
    """Whether ``url`` is a plain path or a ``file://`` URL (the only local locations)."""
    return scheme_of(url) in ("", "file")


def backend_for(url: str, what: str = "") -> StorageBackend:
    """Return the backend serving ``url``, refusing a scheme that no installed plugin serves.

    Call it before writing or reading anything at a location a user gave,
    so that ``s3://bucket/m`` is never taken for a local folder named
    ``s3:``.

    Parameters
    ----------
    url : str
        A plain path or a URL.
    what : str
        What the location is for (``"save_path"``, ``"resource 'train'"``),
        put at the start of the error.

    Raises
    ------
    StorageError
        No installed plugin serves the scheme; the message names the
        scheme and, for Flambé's own schemes, the distribution that
        provides it (``s3`` -> flambe-cluster).

    """
    url = os.fspath(url)
    try:
        return get_backend(scheme_of(url))
    except StorageError as exc:
        where = f"{what} {url}" if what else url
        raise StorageError(f"{where}: {exc.message}", hint=exc.hint) from None


def get_backend(scheme: str) -> StorageBackend:
    """Return the backend a plugin declared for ``scheme`` (``''`` and ``file`` are local).

    Raises
    ------
    StorageError
        No installed plugin serves the scheme; names the distribution that would.

    """
    if scheme in ("", "file"):
        return LocalBackend()
    from flambe.plugins.manager import get_host, import_object

    target = get_host().storage_backends().get(scheme)
    if target is None:
        from flambe.plugins.known import KNOWN_SCHEMES

        provider = KNOWN_SCHEMES.get(scheme)
        hint = (
            f"install {provider} (pip install {provider}), which provides {scheme}:// URLs"
            if provider
            else "use a local path, or install a plugin that serves this scheme"
        )
        raise StorageError(
            f"no storage backend is installed for {scheme}:// URLs, so it "
            "can be neither read nor written (only plain paths and file:// URLs "
            "are local)",
            hint=hint,
        )
    backend = import_object(target.import_path)
    return backend() if isinstance(backend, type) else backend


def exists(url: str) -> bool:
    """Whether something is at ``url`` (a path or any supported URL)."""
    return backend_for(url).exists(url)


def upload(src: str, url: str) -> None:
    """Copy the local ``src`` to ``url`` (a path or any writable URL)."""
    backend_for(url, "cannot upload to").upload(src, url)


@contextlib.contextmanager
def open_local(url: str, destination: str | None = None) -> Iterator[str]:
    """Yield a local path for ``url``, downloading it first when it is remote.

    Parameters
    ----------
    url : str
        A local path, ``file://`` URL or URL of any installed backend.
    destination : str, optional
        Where to download; by default a temporary folder removed when the
        block exits (the path is ``<tmp>/<last part of the URL>``).

    Raises
    ------
    StorageError
        The location does not exist, cannot be reached, or its scheme has
        no backend.

    """
    url = os.fspath(url)
    scheme = scheme_of(url)
    if scheme in ("", "file"):
        path = local_path(url)
        if not os.path.exists(path):
            raise StorageError(f"path {path!r} does not exist locally")
        yield path
        return
    backend = backend_for(url, "cannot read")
    name = os.path.basename(urllib.parse.urlparse(url).path.rstrip("/")) or "download"
    if destination is not None:
        yield backend.download(url, destination)
        return
    with tempfile.TemporaryDirectory(prefix="flambe-download-") as tmp:
        yield backend.download(url, os.path.join(tmp, name))
