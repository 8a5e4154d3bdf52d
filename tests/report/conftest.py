"""Fixtures of the report site's tests: a small experiment's output folder and the app."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.report.helpers import make_experiment


@pytest.fixture(scope="session")
def built_experiment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The experiment, built once; tests that change it use ``experiment`` (a copy)."""
    return Path(make_experiment(str(tmp_path_factory.mktemp("report"))))


@pytest.fixture
def experiment(built_experiment: Path, tmp_path: Path) -> Path:
    """A private copy of the experiment's output folder."""
    target = tmp_path / built_experiment.name
    shutil.copytree(built_experiment, target, symlinks=True)
    progress = (target / "progress.json").read_text().replace(str(built_experiment), str(target))
    (target / "progress.json").write_text(progress)
    return target


@pytest.fixture
def client(experiment: Path) -> Any:
    """Flask's test client of the site of ``experiment``."""
    from flambe.report.app import create_app

    app = create_app(str(experiment))
    app.config["STREAM_IDLE_END_S"] = 0.3
    return app.test_client()
