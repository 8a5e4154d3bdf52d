"""Runnables: the top-level objects ``flambe run`` runs.

``from flambe.runnable import Runnable, ClusterRunnable`` as in the original
documentation. Names are resolved on first access, so importing this
package stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "Runnable": "flambe.runnable.runnable",
    "ClusterRunnable": "flambe.runnable.runnable",
    "Cluster": "flambe.runnable.cluster",
    "RemoteEnvironment": "flambe.runnable.environment",
    "LoadedRunnable": "flambe.runnable.context",
    "load_runnable_config": "flambe.runnable.context",
    "build_runnable": "flambe.runnable.context",
    "run_runnable": "flambe.runnable.context",
    "SafeExecutionContext": "flambe.runnable.context",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'flambe.runnable' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list:
    return sorted(set(globals()) | set(_LAZY))
