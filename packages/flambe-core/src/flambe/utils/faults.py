"""Named fault points: places where a test can kill the process or fail a write on purpose.

Code that writes something a kill must not corrupt calls
:func:`fault_point` at the windows that matter (between writing a
checkpoint and committing it, between the two renames of a save, ...).
Normally this is one dictionary lookup. When the environment variable
``FLAMBE_FAULTS`` is set, e.g.::

    FLAMBE_FAULTS="checkpoint.written@3=kill,progress.replace=enospc"

the named point acts on its N-th visit in this process (the first when
``@N`` is absent): ``kill`` sends SIGKILL to the process itself (what
``kill -9`` does), ``enospc`` raises ``OSError(ENOSPC)`` as a full disk
would, ``exit`` ends the process at once with status 70 (no cleanup).
The fault-injection tests use it to hit windows that random kills rarely reach.
"""

from __future__ import annotations

import errno
import os
import signal

ENV = "FLAMBE_FAULTS"
ACTIONS = ("kill", "enospc", "exit")

_parsed: tuple[str, dict[str, tuple[int, str]]] | None = None
_visits: dict[str, int] = {}


def _spec() -> dict[str, tuple[int, str]]:
    global _parsed
    raw = os.environ.get(ENV, "")
    if _parsed is not None and _parsed[0] == raw:
        return _parsed[1]
    spec: dict[str, tuple[int, str]] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, _, action = item.partition("=")
        name, _, count = name.partition("@")
        action = action or "kill"
        if action not in ACTIONS:
            raise ValueError(
                f"{ENV}: unknown action {action!r} in {item!r} (one of {', '.join(ACTIONS)})"
            )
        spec[name.strip()] = (int(count) if count else 1, action)
    _parsed = (raw, spec)
    return spec


def fault_point(name: str, path: str | None = None) -> None:
    """Act on the fault planned at ``name``, if ``FLAMBE_FAULTS`` plans one.

    Parameters
    ----------
    name : str
        The point, e.g. ``"checkpoint.written"``.
    path : str, optional
        The file being written, named in an injected ``ENOSPC`` error.

    Raises
    ------
    OSError
        ``ENOSPC``, when the plan says ``enospc`` for this visit.

    """
    if ENV not in os.environ:
        return
    planned = _spec().get(name)
    if planned is None:
        return
    _visits[name] = _visits.get(name, 0) + 1
    count, action = planned
    if _visits[name] != count:
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "exit":
        os._exit(70)
    else:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
