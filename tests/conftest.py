"""Shared fixtures and settings for the tests of every distribution.

Settings made here for the whole session:

* ``FLAMBE_HOME`` points at a temporary folder, so no test writes to
  ``~/.flambe``;
* nothing may reach the network: Ray reports no usage statistics and the
  Hugging Face libraries stay offline (the tests run in a network namespace
  that has only loopback anyway);
* ``RAY_ADDRESS`` is dropped, so every test starts its own local Ray.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"

_OFFLINE_ENV = {
    "RAY_USAGE_STATS_ENABLED": "0",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
}

_flambe_home: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _flambe_home
    _flambe_home = tempfile.mkdtemp(prefix="flambe-home-")
    os.environ["FLAMBE_HOME"] = _flambe_home
    for name, value in _OFFLINE_ENV.items():
        os.environ[name] = value
    os.environ.pop("RAY_ADDRESS", None)


def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    """Leave the long fault-injection suite out unless ``-m`` names it (``-m faults``)."""
    if "faults" in (config.getoption("markexpr", "") or ""):
        return
    kept = [item for item in items if item.get_closest_marker("faults") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


def pytest_unconfigure(config: pytest.Config) -> None:
    if _flambe_home is not None:
        shutil.rmtree(_flambe_home, ignore_errors=True)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The root of the repository."""
    return REPO_ROOT


def require_shared_data(*parts: str) -> Path:
    """A path in the shared data folder; skips the calling test when it is absent.

    Tests that read the real data sets (``../shared/data`` beside the
    repository) get their paths from here or from the ``shared_data``
    fixture, never by building them: on a machine that has only the
    repository they skip, saying why. In CI (``CI=true``) a missing folder
    is a failure instead: CI must run every test.
    ``tests/core/test_suite_without_shared_data.py`` checks this holds.
    """
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        message = (
            f"the shared data {path} is absent; tests that read real data sets need "
            f"the folder {SHARED_DATA} beside the repository"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder, ``../shared/data`` beside the repository (skips when absent)."""
    return require_shared_data()


@pytest.fixture
def fresh_plugin_host() -> Iterator[None]:
    """Make the next ``get_host()`` build a new plugin host, for this test only.

    Use it in tests that change what plugins can be found (``sys.path``,
    ``FLAMBE_DISABLE_PLUGIN_AUTOLOAD``, ``FLAMBE_BLOCK_PLUGINS``) or that
    install a host with ``set_host``. The host of the process is put back
    afterwards, so other tests don't pay for rebuilding it.
    """
    from flambe.plugins.manager import set_host

    previous = set_host(None)
    try:
        yield
    finally:
        set_host(previous)
