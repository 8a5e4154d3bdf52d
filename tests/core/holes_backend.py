"""A storage backend for tests: ``memfs://bucket/key`` lives under a local folder.

It stands for a remote store (such as flambe-cluster's ``s3://``) in the
tests of the storage-backend hook: the folder is named by the
``FLAMBE_TEST_MEMFS_ROOT`` environment variable.
"""

from __future__ import annotations

import os
import shutil
import urllib.parse

from flambe.plugins import hookimpl
from flambe.storage import StorageBackend, StorageError

ROOT_ENV = "FLAMBE_TEST_MEMFS_ROOT"


def _where(url: str) -> str:
    parsed = urllib.parse.urlparse(url)
    return os.path.join(os.environ[ROOT_ENV], parsed.netloc, parsed.path.lstrip("/"))


class FolderBackend(StorageBackend):
    """``memfs://`` URLs, kept under ``$FLAMBE_TEST_MEMFS_ROOT``."""

    def exists(self, url: str) -> bool:
        return os.path.exists(_where(url))

    def download(self, url: str, dest: str) -> str:
        src = _where(url)
        if not os.path.exists(src):
            raise StorageError(f"nothing at {url}")
        if os.path.isdir(src):
            shutil.copytree(src, dest)
        else:
            shutil.copyfile(src, dest)
        return dest

    def upload(self, src: str, url: str) -> None:
        dest = _where(url)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        if os.path.isdir(src):
            shutil.rmtree(dest, ignore_errors=True)
            shutil.copytree(src, dest)
        else:
            shutil.copyfile(src, dest)


class MemfsPlugin:
    """Declares the ``memfs`` scheme."""

    @hookimpl
    def flambe_storage_backends(self):
        return {"memfs": "tests.core.holes_backend:FolderBackend"}
