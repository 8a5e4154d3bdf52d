"""What the local executor's fork server loads once, so that no worker pays for it.

Imported by the fork server before it forks any worker: torch (with the
compiler it imports when a worker builds its first optimizer), tensorboardX
(every trial writes TensorBoard events), the modules that build, step and
checkpoint a variant, and the plugin host with its tags (reading the
installed distributions' entry points is slow). A worker then starts with
all of it in memory, shared copy-on-write.
"""

from __future__ import annotations

import importlib

MODULES = (
    "torch",
    "torch._dynamo",  # torch imports its compiler when the first optimizer is built (1.4 s)
    "tensorboardX",
    "flambe.logging",
    "flambe.compile.yaml",
    "flambe.compile.serialization",
    "flambe.experiment.checkpoints",
    "flambe.experiment.trial",
    "flambe.experiment.executors.local_worker",
)


def warm() -> None:
    """Import :data:`MODULES` (those installed) and build the plugin host and its tags."""
    for name in MODULES:
        try:
            importlib.import_module(name)
        except ImportError:  # pragma: no cover - an optional library is missing
            pass
    from flambe.plugins.manager import get_host

    get_host().tags()


warm()
