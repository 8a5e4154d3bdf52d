"""Flambé's plugin system: hook specifications, markers and the plugin host.

A plugin is a module with functions marked ``@hookimpl`` whose names match
the specifications in :mod:`flambe.plugins.hookspecs`. Distributions
announce their plugin module under the ``flambe.plugins`` entry point group::

    [project.entry-points."flambe.plugins"]
    hello = "flambe_hello.plugin"

This module stays import-light: it imports pluggy and nothing else.
"""

from __future__ import annotations

import pluggy

PROJECT_NAME = "flambe"
ENTRY_POINT_GROUP = "flambe.plugins"

hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
hookspec = pluggy.HookspecMarker(PROJECT_NAME)

__all__ = ["hookimpl", "hookspec", "PROJECT_NAME", "ENTRY_POINT_GROUP"]
