"""Small helpers shared by the cluster modules."""

from __future__ import annotations

import shlex
from collections import namedtuple
from collections.abc import Iterable

#: the outcome of a remote command: ``success`` and ``msg`` (stdout bytes on success,
#: stderr bytes on failure)
RemoteCommand = namedtuple("RemoteCommand", ["success", "msg"])


def quote_all(args: Iterable[str]) -> str:
    """A shell command line of ``args``, each quoted."""
    return " ".join(shlex.quote(str(a)) for a in args)


def tail(text: bytes | str, lines: int = 20) -> str:
    """The last ``lines`` lines of ``text`` (decoded), for error messages."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return "\n".join(text.rstrip().splitlines()[-lines:])
