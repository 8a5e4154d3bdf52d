"""Fixtures of the vision tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import require_shared_data


@pytest.fixture(scope="session")
def mnist_folder() -> Path:
    """The real MNIST test files of the shared data folder; skips the test when absent."""
    return require_shared_data("mnist")
