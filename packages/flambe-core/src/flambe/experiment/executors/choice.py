"""Which executor runs a stage, and why.

``executor: auto | local | ray`` on the experiment (or ``flambe run
--executor``) asks for one; ``auto``, the default, picks per stage:

- ``in_process`` for a stage with one variant to run and no scheduler or
  search algorithm, and for every stage under ``--debug``;
- ``ray_search`` for a stage with a search algorithm (values proposed trial by
  trial need Ray Tune);
- ``ray`` for a stage with a scheduler, and for every multi-variant stage of a
  run on a Ray cluster (``--cluster``, ``--ray-address``, ``ray_address:``,
  ``RAY_ADDRESS``);
- ``local`` otherwise: a pool of worker processes on this machine, kept for
  the whole experiment, no Ray.

:func:`choose_executor` is the one place this is decided; ``flambe plan``
shows its answer for each stage.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flambe.errors import ConfigError

AUTO = "auto"
REQUESTABLE = ("auto", "local", "ray")
RAY_CLIENT = "ray://"


def refuse_ray_client(address: str | None, where: str) -> None:
    """Refuse a Ray Client address (``ray://``), naming ``where`` it came from.

    Under Ray Client, Tune runs its driver on the cluster: the experiment's
    results, progress and checkpoints would stay there, out of this process's
    reach. Flambé runs on a node of the cluster instead (``ray job submit``).

    Raises
    ------
    ConfigError
        When ``address`` starts with ``ray://``.

    """
    if address and address.strip().startswith(RAY_CLIENT):
        raise ConfigError(
            f"{where} {address}: a Ray Client address; with Ray Client, Ray Tune runs the "
            "stages' driver on the cluster, so their results and checkpoints would not reach "
            "this run",
            hint="run flambe on a node of the cluster, as a Ray job: ray job submit --address "
            "http://HEAD:8265 --working-dir . -- flambe run experiment.yaml --ray-address auto "
            "(see docs/cluster.md)",
        )


@dataclass(frozen=True)
class RunOptions:
    """How ``flambe run`` was asked to run (what the config alone does not say).

    Parameters
    ----------
    executor : str, optional
        ``--executor``: overrides the experiment's ``executor``.
    ray_address : str, optional
        ``--ray-address`` (or ``RAY_ADDRESS``): stages run on that Ray cluster.
    cluster : bool
        ``--cluster``: the run happens on a cluster's orchestrator.
    debug : bool
        ``--debug``: every variant runs in this process, under pdb.

    """

    executor: str | None = None
    ray_address: str | None = None
    cluster: bool = False
    debug: bool = False

    @classmethod
    def from_environment(cls, executor: str | None = None, debug: bool = False) -> RunOptions:
        """Return the options of this process: ``RAY_ADDRESS`` names a Ray cluster to run on."""
        return cls(executor=executor, ray_address=os.environ.get("RAY_ADDRESS"), debug=debug)


def _field(experiment: Any, name: str) -> Any:
    """Read an experiment's argument from the object, a Schema of it, or a mapping."""
    keywords = getattr(experiment, "keywords", None)
    if isinstance(keywords, Mapping):
        return keywords.get(name)
    if isinstance(experiment, Mapping):
        return experiment.get(name)
    return getattr(experiment, name, None)


def requested_executor(experiment: Any, options: RunOptions | None = None) -> str:
    """Return the executor asked for: ``--executor``, else the experiment's, else ``auto``.

    Parameters
    ----------
    experiment : Experiment, Schema or Mapping
        The experiment (built, as loaded, or its arguments).
    options : RunOptions, optional
        How the run was started.

    Returns
    -------
    str
        ``auto``, ``local``, ``ray`` or the name of an executor a plugin declared.

    """
    asked = (options.executor if options else None) or _field(experiment, "executor") or AUTO
    return str(asked)


def _on_ray_cluster(experiment: Any, options: RunOptions | None) -> str | None:
    """Say where the Ray cluster is when the run uses one (``None``: a local run)."""
    if options is not None and options.cluster:
        return "the run is on a cluster (--cluster)"
    address = (options.ray_address if options else None) or _field(experiment, "ray_address")
    return f"the run uses the Ray cluster at {address}" if address else None


def choose_executor(
    stage: str,
    experiment: Any,
    options: RunOptions | None = None,
    count: int | None = None,
) -> tuple[str, str]:
    """Return the executor a stage gets and why.

    Parameters
    ----------
    stage : str
        The stage.
    experiment : Experiment, Schema or Mapping
        The experiment: its ``search``, ``schedulers``, ``executor``,
        ``ray_address`` and ``debug`` are read.
    options : RunOptions, optional
        How the run was started (``--executor``, ``--ray-address``,
        ``--cluster``, ``--debug``).
    count : int, optional
        How many variants of the stage are to run (unknown: more than one).

    Returns
    -------
    tuple of (str, str)
        The executor's name (``in_process``, ``local``, ``ray``,
        ``ray_search`` or a plugin's) and a sentence saying why.

    Raises
    ------
    ConfigError
        When ``local`` is asked for a stage with a scheduler or a search algorithm.

    """
    asked = requested_executor(experiment, options)
    search = (_field(experiment, "search") or {}).get(stage)
    scheduler = (_field(experiment, "schedulers") or {}).get(stage)
    if (options is not None and options.debug) or _field(experiment, "debug"):
        return "in_process", "--debug runs every variant in this process, under pdb"
    if asked == "local" and (search is not None or scheduler is not None):
        what = "search algorithm" if search is not None else "scheduler"
        raise ConfigError(
            f"executor: local cannot run stage '{stage}': its {what} needs Ray Tune",
            hint="use executor: auto (Ray for this stage, local for the others) or ray",
        )
    if search is not None:
        return "ray_search", f"its search algorithm ({_name(search)}) proposes values on Ray Tune"
    if scheduler is not None:
        return "ray", f"its scheduler ({_name(scheduler)}) runs on Ray Tune"
    if count == 1:
        return "in_process", "one variant, no scheduler or search: it runs in this process"
    if asked not in (AUTO, "local", "ray"):
        return asked, f"executor: {asked} was asked for"
    if asked == "ray":
        return "ray", "executor: ray was asked for"
    if asked == "local":
        return "local", "executor: local was asked for: a pool of worker processes here"
    cluster = _on_ray_cluster(experiment, options)
    if cluster:
        return "ray", f"{cluster}: multi-variant stages run on Ray"
    return "local", "no scheduler or search algorithm on a local run: a pool of worker processes"


def _name(value: Any) -> str:
    """Return how a search algorithm or scheduler reads in a reason (its class or tag)."""
    tag = getattr(value, "_created_with_tag", None)
    if tag:
        return str(tag).lstrip("!")
    cls = getattr(value, "component_subclass", None) or type(value)
    return cls.__name__
