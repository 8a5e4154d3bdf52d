"""Run an experiment config in this process and return its progress."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any


def run_config(
    config: str | os.PathLike[str],
    overrides: Sequence[str] = (),
    force: bool = False,
) -> dict[str, Any]:
    """Run the experiment a config file describes, as ``flambe run`` would, in this process.

    The config is loaded with its extensions header, the ``overrides``
    applied, every argument, link and resource checked before anything
    runs, then the experiment runs with the plugin host of the process
    (inside :func:`~flambe.testing.isolated_host`, the plugins given to it).

    Parameters
    ----------
    config : str or path
        The YAML file of an ``!Experiment``.
    overrides : sequence of str
        ``key.path=value`` changes, as on the command line of ``flambe run``.
    force : bool
        Overwrite the outputs of an earlier run (``flambe run --force``).

    Returns
    -------
    dict
        The experiment's ``progress.json``: its ``status``, and per stage
        its ``status`` and ``variants`` (each with ``name``, ``params``,
        ``status``, ``step``, ``last_metric``, ``best_metric``,
        ``checkpoint`` and ``error``). docs/experiments.md describes it.

    Raises
    ------
    flambe.errors.ConfigError
        When the config has a problem (the message names the file and line).
    TypeError
        When the config describes no experiment (a ``!Builder``, a plugin's
        runnable...): run those with their ``run()`` method.
    flambe.errors.FlambeError
        ``ExperimentFailed`` when a stage failed; its progress is still on disk.

    """
    from flambe.compile.preflight import preflight
    from flambe.experiment.experiment import Experiment
    from flambe.runnable.context import build_runnable, load_runnable_config

    loaded = load_runnable_config(
        os.fspath(config), install_extensions=False, overrides=tuple(overrides)
    )
    preflight(loaded.root)
    runnable = build_runnable(loaded, secrets=None)
    if not isinstance(runnable, Experiment):
        raise TypeError(
            f"{os.fspath(config)} describes a {type(runnable).__name__}, not an Experiment: "
            "run_config returns an experiment's progress; call run() on other runnables"
        )
    runnable.run(force=force)
    with open(os.path.join(runnable.output_path, "progress.json"), encoding="utf-8") as handle:
        progress: dict[str, Any] = json.load(handle)
    return progress
