"""The ``s3://`` storage backend: ``flambe.load``, Builder/Exporter destinations and resources.

``s3://bucket/key`` names a single object, or a "folder": every object under ``key/``.
Credentials come from boto3's usual chain (environment, ``~/.aws``, instance roles). For
S3-compatible stores (MinIO, Ceph...) set ``AWS_ENDPOINT_URL_S3`` (or ``AWS_ENDPOINT_URL``),
which boto3 reads itself, or ``FLAMBE_S3_ENDPOINT_URL``.
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterator
from typing import Any

from flambe.storage import StorageBackend, StorageError

ENDPOINT_ENV = "FLAMBE_S3_ENDPOINT_URL"


def split_url(url: str) -> tuple[str, str]:
    """``(bucket, key)`` of ``s3://bucket/key`` (the key has no leading or trailing slash).

    Raises
    ------
    StorageError
        The URL names no bucket.

    """
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme.lower() != "s3" or not parsed.netloc:
        raise StorageError(
            f"{url!r} is not an s3://bucket/key URL", hint="write s3://my-bucket/path/to/save"
        )
    return parsed.netloc, parsed.path.strip("/")


class S3Backend(StorageBackend):
    """Reads and writes ``s3://`` locations with boto3."""

    def __init__(self, client: Any = None) -> None:
        self._client = client

    @property
    def client(self) -> Any:
        """The boto3 S3 client (made on first use)."""
        if self._client is None:
            import boto3

            endpoint = os.environ.get(ENDPOINT_ENV) or None
            self._client = boto3.client("s3", endpoint_url=endpoint)
        return self._client

    def _call(self, what: str, url: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return fn(*args, **kwargs)
        except Boto3Error as exc:  # transfers wrap the client's error
            raise StorageError(
                f"cannot {what} {url}: {exc}",
                hint="check the bucket name and your AWS credentials "
                "(AWS_PROFILE, ~/.aws/credentials)",
            ) from exc
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            raise StorageError(
                f"cannot {what} {url}: {code} {exc}",
                hint="check the bucket name and your AWS credentials "
                "(AWS_PROFILE, ~/.aws/credentials)",
            ) from exc
        except BotoCoreError as exc:
            raise StorageError(
                f"cannot {what} {url}: {exc}",
                hint="check your AWS credentials and network, or set "
                "AWS_ENDPOINT_URL_S3 for an S3-compatible store",
            ) from exc

    def _is_object(self, bucket: str, key: str) -> bool:
        from botocore.exceptions import ClientError

        if not key:
            return False
        try:
            self.client.head_object(Bucket=bucket, Key=key)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def _under(self, bucket: str, key: str, url: str) -> Iterator[str]:
        prefix = f"{key}/" if key else ""
        paginator = self.client.get_paginator("list_objects_v2")
        pages = self._call(
            "list", url, lambda: list(paginator.paginate(Bucket=bucket, Prefix=prefix))
        )
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"]

    def exists(self, url: str) -> bool:
        """Whether an object, or any object under the folder, is at ``url``."""
        bucket, key = split_url(url)
        if self._call("read", url, self._is_object, bucket, key):
            return True
        return next(iter(self._under(bucket, key, url)), None) is not None

    def download(self, url: str, dest: str) -> str:
        """Copy the object (to the file ``dest``) or folder (into the folder ``dest``)."""
        bucket, key = split_url(url)
        if self._call("read", url, self._is_object, bucket, key):
            os.makedirs(os.path.dirname(os.path.abspath(dest)), exist_ok=True)
            self._call("download", url, self.client.download_file, bucket, key, dest)
            return dest
        keys = list(self._under(bucket, key, url))
        if not keys:
            raise StorageError(
                f"nothing is at {url}", hint="check the bucket and path (aws s3 ls " + url + ")"
            )
        prefix = f"{key}/" if key else ""
        for item in keys:
            relative = item[len(prefix) :]
            if not relative or relative.endswith("/"):
                continue
            target = os.path.join(dest, *relative.split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            self._call(
                "download", f"s3://{bucket}/{item}", self.client.download_file, bucket, item, target
            )
        return dest

    def upload(self, src: str, url: str) -> None:
        """Copy the local file or folder ``src`` to ``url`` (a folder's files under it)."""
        bucket, key = split_url(url)
        if not os.path.exists(src):
            raise StorageError(f"cannot upload {src}: it does not exist")
        if os.path.isfile(src):
            if not key:
                raise StorageError(
                    f"{url} names a bucket, not an object to upload {src} to",
                    hint=f"give a key: s3://{bucket}/{os.path.basename(src)}",
                )
            self._call("upload to", url, self.client.upload_file, src, bucket, key)
            return
        for root, _, files in os.walk(src):
            for name in files:
                path = os.path.join(root, name)
                relative = os.path.relpath(path, src).replace(os.sep, "/")
                target = f"{key}/{relative}" if key else relative
                self._call(
                    "upload to",
                    f"s3://{bucket}/{target}",
                    self.client.upload_file,
                    path,
                    bucket,
                    target,
                )
