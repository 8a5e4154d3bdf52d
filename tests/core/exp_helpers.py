"""Helpers shared by the experiment tests: writing configs, running them, reading outputs."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tests.core.experiment_components  # noqa: F401  (registers the !X... tags)
from flambe.compile import yaml
from flambe.plugins import hookimpl
from flambe.plugins.manager import get_host


def write_config(
    folder: Path, pipeline: str, name: str = "exp", top: str = "", file_name: str = "exp.yaml"
) -> Path:
    """An experiment config file whose outputs go to ``folder/out``."""
    stages = textwrap.indent(textwrap.dedent(pipeline), "  ")
    text = (
        f"!Experiment\nname: {name}\nsave_path: {folder / 'out'}\n"
        + textwrap.dedent(top)
        + "pipeline:\n"
        + stages
    )
    path = folder / file_name
    path.write_text(text)
    return path


def load(path: Path) -> Any:
    """The Experiment a config file builds."""
    return yaml.load(path.read_text(), file=str(path))()


def run(path: Path, **flags: Any) -> Any:
    """Load and run an experiment config; returns the experiment."""
    experiment = load(path)
    experiment.run(**flags)
    return experiment


def progress(folder: Path, name: str = "exp") -> dict[str, Any]:
    """The progress.json of an experiment run under ``folder/out``."""
    return json.loads((folder / "out" / f"output__{name}" / "progress.json").read_text())


def statuses(doc: dict[str, Any], stage: str) -> dict[str, str]:
    """Variant name -> status, for one stage of a progress document."""
    return {v["name"]: v["status"] for v in doc["stages"][stage]["variants"].values()}


def lines(path: Path) -> list[str]:
    """The lines a component appended to a file (none when it does not exist)."""
    return path.read_text().splitlines() if path.exists() else []


class Recorder:
    """Records every experiment event, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def names(self) -> list[str]:
        return [name for name, _ in self.events]

    @hookimpl
    def flambe_experiment_started(self, experiment: Any, output_path: str) -> None:
        self.events.append(("experiment_started", {"output_path": output_path}))

    @hookimpl
    def flambe_stage_started(self, experiment: Any, stage: str, variants: Any) -> None:
        self.events.append(("stage_started", {"stage": stage, "variants": list(variants)}))

    @hookimpl
    def flambe_trial_result(self, experiment: Any, stage: str, variant: str, result: Any) -> None:
        self.events.append(
            ("trial_result", {"stage": stage, "variant": variant, "result": dict(result)})
        )

    @hookimpl
    def flambe_checkpoint_written(
        self, experiment: Any, stage: str, variant: str, path: str
    ) -> None:
        self.events.append(
            ("checkpoint_written", {"stage": stage, "variant": variant, "path": path})
        )

    @hookimpl
    def flambe_stage_finished(self, experiment: Any, stage: str, status: str) -> None:
        self.events.append(("stage_finished", {"stage": stage, "status": status}))

    @hookimpl
    def flambe_experiment_finished(self, experiment: Any, output_path: str, status: str) -> None:
        self.events.append(("experiment_finished", {"status": status}))


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """A Recorder subscribed to the experiment events while the test runs."""
    rec = Recorder()
    host = get_host()
    host.subscribe(rec, name=f"recorder-{id(rec)}")
    try:
        yield rec
    finally:
        host.unsubscribe(rec)


@pytest.fixture(scope="module", autouse=True)
def local_ray() -> Iterator[None]:
    """A Ray instance for every test of a module that imports this fixture.

    Started unless one is running, and shut down after the module's tests.
    """
    import logging

    import ray

    from flambe.experiment.tune_runner import ray_runtime_env

    started = not ray.is_initialized()
    if started:
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            runtime_env=ray_runtime_env(),
            logging_level=logging.ERROR,
            log_to_driver=False,
        )
    yield
    if started:
        ray.shutdown()


def variants(doc: dict[str, Any], stage: str) -> dict[str, dict[str, Any]]:
    """Variant name -> its entry, for one stage of a progress document."""
    return {v["name"]: v for v in doc["stages"][stage]["variants"].values()}
