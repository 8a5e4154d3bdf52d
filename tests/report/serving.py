"""Starting ``flambe site`` for real (a subprocess on a free loopback port) in tests."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def flambe_site_command() -> list[str]:
    return [sys.executable, "-m", "flambe.cli"]


class SiteProcess:
    """``flambe site ...`` running until :meth:`stop` (Ctrl-C)."""

    def __init__(
        self, args: list[str], env: dict[str, str] | None = None, command: list[str] | None = None
    ) -> None:
        full_env = dict(os.environ, **(env or {}))
        self.process = subprocess.Popen(
            (command or flambe_site_command() + ["site"]) + args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=full_env,
        )
        self.lines: list[str] = []
        self.url = self._wait_for_url()

    def _wait_for_url(self, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            found = re.search(r"(http://\S+)", line)
            if found and "TensorBoard" not in line:
                return found.group(1)
        self.process.kill()
        raise AssertionError("flambe site printed no URL:\n" + "".join(self.lines))

    def stop(self) -> str:
        """Ctrl-C, then everything it printed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        out, _ = self.process.communicate(timeout=30)
        return "".join(self.lines) + (out or "")


def raw_get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple:
    """GET a path exactly as written (no normalisation of '..' or escapes): (status, body)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest("GET", path, skip_accept_encoding=True)
        for key, value in (headers or {}).items():
            connection.putheader(key, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_for(predicate, timeout: float = 30, every: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False


def folder_arg(path: Path) -> str:
    return str(path)
