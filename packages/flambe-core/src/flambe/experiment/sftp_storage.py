"""Ray Tune's storage on another host, over SFTP (see :mod:`flambe.experiment.trial_sync`).

Tune accepts any pyarrow file system as ``RunConfig(storage_filesystem=...)``.
This one wraps fsspec's SFTP file system with three changes:

- one SSH connection per process, used under a lock: Tune (and pyarrow's
  copies) call the file system from many threads, some of them not Python's
  own, and a paramiko channel used by several threads at once stalls;
- files are read whole and written on close, so no open SFTP file outlives
  the lock (Tune's files are small: its state and checkpoint records);
- the host key is checked against a known-hosts file when one is given
  (fsspec accepts any key by default).

It needs paramiko (a dependency of ``flambe-cluster``, which sets this up).
"""

from __future__ import annotations

import io
import logging
import os
import threading
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs
from fsspec.implementations.sftp import SFTPFileSystem

# paramiko announces every connection and SFTP session at INFO: not news for a run's log
logging.getLogger("paramiko").setLevel(logging.WARNING)


class PinnedSFTPFileSystem(SFTPFileSystem):  # type: ignore[misc]  # fsspec is untyped
    """fsspec's SFTP file system that checks the host key against ``known_hosts``.

    Parameters
    ----------
    host : str
        The host.
    known_hosts : str, optional
        A known-hosts file; the connection is refused when the host's key is
        not the one recorded there.
    **ssh_kwargs
        Given to ``paramiko.SSHClient.connect``.

    """

    def __init__(self, host: str, known_hosts: str | None = None, **ssh_kwargs: Any) -> None:
        if self._cached:
            return
        self.known_hosts = known_hosts
        if isinstance(ssh_kwargs.get("key_filename"), str):  # ``~``: this host's home
            ssh_kwargs["key_filename"] = os.path.expanduser(ssh_kwargs["key_filename"])
        super().__init__(host, **ssh_kwargs)

    def _connect(self) -> None:
        import paramiko

        if not self.known_hosts:
            super()._connect()
            return
        self.client = paramiko.SSHClient()
        self.client.load_host_keys(os.path.expanduser(self.known_hosts))
        self.client.set_missing_host_key_policy(paramiko.RejectPolicy())
        self.client.connect(self.host, **self.ssh_kwargs)
        self.ftp = self.client.open_sftp()


class _Upload(io.BytesIO):
    """The bytes of a file being written; sent in one piece when closed."""

    def __init__(self, handler: LockedSFTPHandler, path: str) -> None:
        super().__init__()
        self.handler = handler
        self.path = path

    def close(self) -> None:
        if not self.closed:
            data = self.getvalue()
            with self.handler.lock:
                with self.handler.fs.open(self.path, mode="wb") as remote:
                    remote.write(data)
        super().close()


class LockedSFTPHandler(pafs.FSSpecHandler):  # type: ignore[misc]  # pyarrow is untyped
    """A pyarrow handler over one SFTP connection per process, used by one thread at a time.

    Parameters
    ----------
    **kwargs
        The arguments of :class:`PinnedSFTPFileSystem`.

    """

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self._state: tuple[int, threading.RLock, PinnedSFTPFileSystem | None] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"kwargs": self.kwargs}  # connections and locks stay in their process

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state["kwargs"])  # type: ignore[misc]

    def _process_state(self) -> tuple[int, threading.RLock, PinnedSFTPFileSystem | None]:
        state = self._state
        if state is None or state[0] != os.getpid():  # first use here, or a forked child
            state = self._state = (os.getpid(), threading.RLock(), None)
        return state

    @property
    def lock(self) -> threading.RLock:
        """The lock every use of the connection holds."""
        return self._process_state()[1]

    @property
    def fs(self) -> PinnedSFTPFileSystem:
        """The connection of the calling process (opened on first use)."""
        pid, lock, fs = self._process_state()
        if fs is None:
            with lock:
                fs = PinnedSFTPFileSystem(skip_instance_cache=True, **self.kwargs)
                self._state = (pid, lock, fs)
        return fs

    def _read(self, path: str) -> Any:
        with self.lock:
            if not self.fs.isfile(path):
                raise FileNotFoundError(path)
            with self.fs.open(path, mode="rb") as remote:
                data = remote.read()
        return pa.BufferReader(data)

    def open_input_stream(self, path: str) -> Any:
        """Read the whole file (under the lock) and serve it from memory."""
        return self._read(path)

    def open_input_file(self, path: str) -> Any:
        """Read the whole file (under the lock) and serve it from memory."""
        return self._read(path)

    def open_output_stream(self, path: str, metadata: Any) -> Any:
        """Collect what is written; the file is sent when the stream closes."""
        return pa.PythonFile(_Upload(self, path), mode="w")

    def open_append_stream(self, path: str, metadata: Any) -> Any:
        """Refuse: Tune never appends, and SFTP appends would need the lock held open."""
        raise NotImplementedError("appending to a file over SFTP")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LockedSFTPHandler) and other.kwargs == self.kwargs

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.kwargs.items())))

    def get_type_name(self) -> str:
        """The name pyarrow shows for this file system."""
        return f"flambe+sftp://{self.kwargs.get('host')}"


def _locked(name: str) -> Any:
    """FSSpecHandler's method ``name``, run under the handler's lock."""
    method = getattr(pafs.FSSpecHandler, name)

    def locked(self: LockedSFTPHandler, *args: Any, **kwargs: Any) -> Any:
        with self.lock:
            return method(self, *args, **kwargs)

    locked.__name__ = name
    locked.__doc__ = f"``{name}`` of fsspec's handler, under the connection's lock."
    return locked


for _name in (
    "get_file_info",
    "get_file_info_selector",
    "create_dir",
    "delete_dir",
    "delete_dir_contents",
    "delete_root_dir_contents",
    "delete_file",
    "move",
    "copy_file",
):
    setattr(LockedSFTPHandler, _name, _locked(_name))


def sftp_filesystem(
    host: str, port: int, user: str, key: str, known_hosts: str | None = None
) -> pafs.PyFileSystem:
    """A pyarrow file system over SFTP to ``user@host:port``, logging in with ``key``."""
    return pafs.PyFileSystem(
        LockedSFTPHandler(
            host=host,
            port=port,
            username=user,
            key_filename=key,  # expanded on the host that connects
            known_hosts=known_hosts,
            look_for_keys=False,
            allow_agent=False,
            timeout=30,
        )
    )
