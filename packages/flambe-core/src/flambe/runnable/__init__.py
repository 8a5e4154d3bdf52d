"""Runnables: the top-level objects ``flambe run`` runs.

``from flambe.runnable import Runnable, ClusterRunnable`` as in the original
documentation. Names are resolved on first access, so importing this
package stays cheap.
"""

from __future__ import annotations

from flambe.utils.lazy import lazy_attributes

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


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
