"""Finding the files of a public dataset: a local folder, the cache, or a download.

Every dataset class of flambe-nlp takes ``data_dir``: a local folder that
holds the dataset's files under their original names. Without it, the files
are downloaded once from the dataset's original URL into
``<Flambé home>/cache/datasets/<name>/`` (``~/.flambe`` unless
``FLAMBE_HOME`` says otherwise) and read from there afterwards.

Text is decoded with the dataset's encoding; bytes that are not valid in
it become U+FFFD (the replacement character) with a warning that names the
file and the first line, instead of an error in the middle of training.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from flambe.errors import DataError
from flambe.utils.paths import flambe_home

logger = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT = 60


def cache_folder(name: str) -> Path:
    """The download cache of dataset ``name``: ``<Flambé home>/cache/datasets/<name>``."""
    return flambe_home() / "cache" / "datasets" / name


def _how_to(owner: str, file: str, url: str, cache: Path) -> str:
    return (
        f"download {url} yourself and either pass data_dir: <folder holding {file}> to "
        f"{owner}, or put the file in {cache}"
    )


def fetch_file(owner: str, name: str, file: str, url: str, data_dir: str | None = None) -> Path:
    """The local path of ``file`` of a dataset: in ``data_dir``, else cached or downloaded.

    Parameters
    ----------
    owner : str
        The dataset class, for messages.
    name : str
        The cache folder's name.
    file : str
        The file's name (in ``data_dir``, in the cache, and at the end of ``url``).
    url : str
        Where to download it from.
    data_dir : str, optional
        A local folder holding the file: nothing is downloaded.

    Raises
    ------
    DataError
        The file is not in ``data_dir``, or the download failed: the
        message names the file and the URL, the hint says how to provide
        the file locally.

    """
    cache = cache_folder(name)
    if data_dir is not None:
        path = Path(os.path.expanduser(str(data_dir))) / file
        if not path.is_file():
            raise DataError(
                f"{owner}: {file} is not in the local folder {data_dir} "
                f"(its original location is {url})",
                hint=f"put {file} in {data_dir}, or leave data_dir out to download it into {cache}",
            )
        return path
    path = cache / file
    if path.is_file():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    logger.info("%s: downloading %s to %s", owner, url, path)
    handle, partial = tempfile.mkstemp(dir=cache, prefix=f".{file}.", suffix=".part")
    os.close(handle)
    try:
        with (
            urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response,
            open(partial, "wb") as out,
        ):
            shutil.copyfileobj(response, out)
        os.replace(partial, path)
    except Exception as exc:
        if os.path.exists(partial):
            os.remove(partial)
        raise DataError(
            f"{owner}: could not download {file} from {url}: {exc}",
            hint=_how_to(owner, file, url, cache),
        ) from exc
    return path


def fetch_from_zip(
    owner: str, name: str, archive: str, url: str, member: str, data_dir: str | None = None
) -> Path:
    """A file of a zip archive: ``data_dir/<basename of member>`` (or the archive in it).

    With ``data_dir``, the extracted file (its base name) is used when
    present, else the archive in that folder. Without it, the archive is
    downloaded into the cache and the member extracted there once.

    Raises
    ------
    DataError
        As :func:`fetch_file`, or the archive lacks the member.

    """
    base = os.path.basename(member)
    cache = cache_folder(name)
    if data_dir is not None:
        local = Path(os.path.expanduser(str(data_dir)))
        for candidate in (local / base, local / member):
            if candidate.is_file():
                return candidate
        if not (local / archive).is_file():
            raise DataError(
                f"{owner}: neither {base} nor {archive} is in the local folder "
                f"{data_dir} (the original location is {url})",
                hint=f"put {base} (extracted from {archive}) or {archive} in "
                f"{data_dir}, or leave data_dir out to download it into {cache}",
            )
        zipped, target = local / archive, local / base
    else:
        target = cache / base
        if target.is_file():
            return target
        zipped = fetch_file(owner, name, archive, url)
    try:
        with zipfile.ZipFile(zipped) as bundle:
            with bundle.open(member) as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out)
    except KeyError as exc:
        raise DataError(
            f"{owner}: {zipped} has no {member}",
            hint=f"download a fresh copy of {archive} from {url}",
        ) from exc
    except (OSError, zipfile.BadZipFile) as exc:
        raise DataError(
            f"{owner}: cannot extract {member} from {zipped}: {exc}",
            hint=f"download a fresh copy of {archive} from {url}",
        ) from exc
    return target


def read_lines(path: Path, encoding: str, owner: str) -> list[str]:
    """The lines of a text file (without line ends), undecodable bytes replaced.

    A warning names the file and the first line with bytes that are not
    valid ``encoding``; they become U+FFFD.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataError(f"{owner}: cannot read {path}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        logger.warning(
            "%s: %s has bytes that are not valid %s (first on line %d); they are "
            "replaced by U+FFFD",
            owner,
            path,
            encoding,
            line,
        )
        text = raw.decode(encoding, errors="replace")
    return text.splitlines()
