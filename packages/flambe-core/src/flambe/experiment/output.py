"""An experiment's output folder: what it holds before any stage runs.

``<save_path>/output__<name>/`` holds ``run.json`` (the fingerprint of the
config and the seed used), ``experiment.yaml`` (the config as run, with its
drawn ``!s`` values and seed) and, as stages run, a folder per stage. A
folder holding another config of the same experiment is refused unless
``--force`` (replace it) or ``resume`` (reuse its finished stages); one
holding the same config is continued with the seed it used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from typing import Any

from flambe.compile import tree
from flambe.errors import ConfigError

logger = logging.getLogger(__name__)

CONFIG_FILE = "experiment.yaml"
RUN_FILE = "run.json"


def config_text(experiment: Any) -> str:
    """Return the experiment's config as YAML, with its extensions."""
    from flambe.compile import yaml

    return str(yaml.dump_with_extensions(experiment, experiment.extensions or {}))


def entries(folder: str) -> list[str]:
    """Return what an output folder holds, its lock file aside."""
    from flambe.experiment.lock import LOCK_FILE

    return [e for e in os.listdir(folder) if e != LOCK_FILE]


def options_of(value: Any, kind: type) -> list[Any]:
    """Return every node of a config tree that is a ``kind``, each once."""
    return [node for node in tree.walk(value) if isinstance(node, kind)]


def _read_run_file(output: str) -> dict[str, Any]:
    path = os.path.join(output, RUN_FILE)
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as handle:
        found = json.load(handle)
    return found if isinstance(found, dict) else {}


def _empty(output: str) -> None:
    """Remove everything in the folder but the lock file (this run holds it)."""
    logger.info("--force: removing %s", output)
    for entry in entries(output):
        path = os.path.join(output, entry)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.remove(path)


def check_folder(experiment: Any, output: str, fingerprint: str, force: bool) -> dict[str, Any]:
    """Check an existing output folder; return what its ``run.json`` says (empty: nothing).

    Parameters
    ----------
    experiment : Experiment
        The experiment about to run.
    output : str
        Its output folder.
    fingerprint : str
        The hash of its config (before anything is drawn).
    force : bool
        Replace what the folder holds.

    Returns
    -------
    dict
        The previous run's ``fingerprint`` and ``seed``, when it is continued.

    Raises
    ------
    ConfigError
        When the folder holds another config and neither ``force`` nor ``resume`` is set.

    """
    previous = _read_run_file(output)
    if not (os.path.isdir(output) and entries(output)):
        return previous
    if force:
        _empty(output)
        return {}
    if previous.get("fingerprint") == fingerprint:
        logger.info("%s holds this experiment already: continuing it", output)
    elif experiment.resume:
        logger.info("resuming %s for stages %s", output, ", ".join(experiment.resume))
    else:
        raise ConfigError(
            f"{output} holds the output of another configuration of experiment '{experiment.name}'",
            hint="pass --force to replace it, add 'resume: <stage>' to reuse its finished "
            "stages, or change the experiment's name or save_path",
        )
    return previous


def prepare_output(experiment: Any, output: str, force: bool) -> None:
    """Check the output folder, fix the seed, draw ``!s`` values, write experiment.yaml.

    A folder holding this same config (compared before anything is drawn,
    seed aside when none was given) is continued with the seed it used.

    Parameters
    ----------
    experiment : Experiment
        The experiment about to run (its seed and ``!s`` options are set).
    output : str
        Its output folder.
    force : bool
        Replace what the folder holds.

    """
    import numpy as np

    from flambe.experiment.options import SampledUniformSearchOptions
    from flambe.utils.atomic import write_json_atomic, write_text_atomic

    fingerprint = hashlib.sha1(config_text(experiment).encode()).hexdigest()
    previous = check_folder(experiment, output, fingerprint, force)
    if experiment.seed is None:
        seed = previous.get("seed")
        if seed is None:
            entropy = np.random.SeedSequence().entropy
            assert isinstance(entropy, int)
            seed = entropy % 2**31
        experiment.set_serializable_attr("seed", int(seed))
    rng = np.random.default_rng(experiment.seed)
    for option in options_of(experiment.pipeline, SampledUniformSearchOptions):
        option.values = None
        option.draw(rng)
    os.makedirs(output, exist_ok=True)
    write_json_atomic(
        os.path.join(output, RUN_FILE), {"fingerprint": fingerprint, "seed": experiment.seed}
    )
    write_text_atomic(os.path.join(output, CONFIG_FILE), config_text(experiment))
