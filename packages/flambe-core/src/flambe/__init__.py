"""Flambé: from a YAML file to a tuned, checkpointed, reproducible PyTorch result.

``import flambe`` is cheap: the public names below are resolved on first
access, so importing the package loads neither torch nor ray. Plugin
distributions (``flambe-nlp``, ``flambe-vision``, ...) add their own
subpackages (``flambe.nlp``...) to this namespace.
"""

from __future__ import annotations

from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

from flambe.utils.lazy import lazy_attributes  # noqa: E402  (after __path__ is complete)

__version__ = "0.6.0"

# public name -> module that defines it
_LAZY = {
    "Component": "flambe.compile.component",
    "Schema": "flambe.compile.schema",
    "Link": "flambe.compile.link",
    "Registrable": "flambe.compile.registrable",
    "MappedRegistrable": "flambe.compile.registrable",
    "alias": "flambe.compile.registrable",
    "register": "flambe.compile.registrable",
    "registrable_factory": "flambe.compile.registrable",
    "save": "flambe.compile.serialization",
    "load": "flambe.compile.serialization",
    "save_state_to_file": "flambe.compile.serialization",
    "load_state_from_file": "flambe.compile.serialization",
    "State": "flambe.compile.state",
    "Runnable": "flambe.runnable.runnable",
    "ClusterRunnable": "flambe.runnable.runnable",
    "log": "flambe.logging",
}

__all__ = sorted(_LAZY) + ["__version__"]


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
