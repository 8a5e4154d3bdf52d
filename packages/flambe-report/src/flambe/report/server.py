"""Serving the site: a threaded WSGI server that Ctrl-C (or SIGTERM) stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
import webbrowser
from collections.abc import Callable
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class QuietRequestHandler(WSGIRequestHandler):
    """Serves requests without a console line for each (the pages poll every second)."""

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        """Log nothing for a successful request."""


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def url_for(host: str, port: int, token: str | None = None) -> str:
    """Return the address to open in a browser (with ``?token=`` when there is one)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    if shown == "::":
        shown = "::1"
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/" + (f"?token={token}" if token else "")


def build_server(app: Any, host: str, port: int) -> BaseWSGIServer:
    """Bind a threaded server to to ``host:port`` (raises OSError when the port is taken)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    # werkzeug takes the bound socket: a busy port is our error to report, not its exit
    server = make_server(
        host,
        sock.getsockname()[1],
        app,
        threaded=True,
        request_handler=QuietRequestHandler,
        fd=sock.fileno(),
    )
    server._flambe_socket = sock  # type: ignore[attr-defined]  # kept open with the server
    return server


def _watch_parent(pid: int) -> None:
    """Stop this process (as SIGTERM would) once the process ``pid`` is gone."""
    while True:
        time.sleep(1.0)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        except PermissionError:
            continue
        if os.getppid() != pid:
            break
    os.kill(os.getpid(), signal.SIGTERM)


def serve(
    server: BaseWSGIServer,
    open_url: str | None = None,
    on_stop: Callable[[], None] | None = None,
    parent_pid: int | None = None,
) -> None:
    """Serve until Ctrl-C or SIGTERM (or the end of ``parent_pid``), then clean up.

    The socket is closed and ``on_stop`` called.
    """
    if parent_pid:
        threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    if open_url:
        threading.Timer(0.5, webbrowser.open, args=(open_url,)).start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if on_stop is not None:
            on_stop()
