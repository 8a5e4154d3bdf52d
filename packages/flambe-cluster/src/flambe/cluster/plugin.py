"""The plugin module of flambe-cluster, announced under the ``flambe.plugins`` entry point.

It declares its YAML tags (clusters and instances) as names mapped to
import paths, so that loading a config imports only the classes it uses and
``flambe --help`` imports neither torch nor this plugin's submodules.
"""

from __future__ import annotations

from typing import Dict, Mapping

from flambe.plugins import hookimpl

# YAML tag (without "!") -> "module:Class"
TAGS: Dict[str, str] = {}


@hookimpl
def flambe_tags() -> Mapping[str, str]:
    """Tags provided by flambe-cluster."""
    return TAGS
