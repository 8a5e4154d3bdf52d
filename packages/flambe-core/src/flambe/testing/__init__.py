"""A small kit for testing Flambé plugins.

:func:`isolated_host`
    A plugin host that knows flambe-core's built-in plugin and only the
    plugins given to it (no installed distribution is loaded), made the
    host of the process while a ``with`` block runs.
:func:`run_config`
    Run an experiment config in this process, exactly as ``flambe run``
    prepares it, and return its progress (the ``progress.json`` document).
``plugin_host``
    A pytest fixture (in :mod:`flambe.testing.fixtures`) giving
    :func:`isolated_host` for the length of a test. Enable it in the
    plugin's ``conftest.py``::

        pytest_plugins = ["flambe.testing.fixtures"]

Only :mod:`flambe.testing.fixtures` needs pytest; nothing here imports torch
or Ray until a config that needs them runs. docs/plugins.md ("Testing a
plugin") shows the kit in use, as do the tests of ``examples/plugin-hello``.
"""

from __future__ import annotations

from flambe.testing.host import PluginLoadError, isolated_host
from flambe.testing.run import run_config

__all__ = ["PluginLoadError", "isolated_host", "run_config"]
