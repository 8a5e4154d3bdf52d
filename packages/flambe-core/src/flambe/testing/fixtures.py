"""pytest fixtures for testing Flambé plugins: ``pytest_plugins = ["flambe.testing.fixtures"]``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from flambe.plugins.manager import PluginHost
from flambe.testing.host import isolated_host


@pytest.fixture
def plugin_host() -> Iterator[Callable[..., PluginHost]]:
    """Make isolated plugin hosts: ``plugin_host(my_plugin)`` returns the host of the test.

    Calls :func:`flambe.testing.isolated_host` with the same arguments; the
    host is the process host until the test ends, then the previous one is
    put back. A plugin that fails to load fails the test with its error.

    Examples
    --------
    >>> def test_my_tag(plugin_host):
    ...     host = plugin_host(my_package.plugin)
    ...     assert "my.Tag" in host.tags()

    """
    with ExitStack() as stack:

        def make(*plugins: object, check: bool = True, **named: object) -> PluginHost:
            return stack.enter_context(isolated_host(*plugins, check=check, **named))

        yield make
