"""The plugin module, announced under the ``flambe.plugins`` entry point as ``hello``.

It declares tags as strings, so Flambé imports :mod:`flambe_hello.greeter`
only when a config uses ``!hello.Greeter``.
"""

from __future__ import annotations

from collections.abc import Mapping

from flambe.plugins import hookimpl


@hookimpl
def flambe_tags() -> Mapping[str, str]:
    """The tags this plugin provides: YAML tag -> ``module:Class``."""
    return {"hello.Greeter": "flambe_hello.greeter:Greeter"}
