"""The hosts of a cluster: an orchestrator and factories, reached over SSH.

``Instance`` runs commands and transfers files; ``OrchestratorInstance`` hosts the Ray head and
the remote Flambé process; ``CPUFactoryInstance`` and ``GPUFactoryInstance`` are Ray workers.
Names are resolved on first access (paramiko is imported only when a host is used).
"""

from __future__ import annotations

from flambe.utils.lazy import lazy_attributes

_LAZY = {
    "Instance": "flambe.cluster.instance.instance",
    "CPUFactoryInstance": "flambe.cluster.instance.instance",
    "GPUFactoryInstance": "flambe.cluster.instance.instance",
    "OrchestratorInstance": "flambe.cluster.instance.instance",
    "errors": "flambe.cluster.instance.errors",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
