"""Hook specifications: the contracts between Flambé and its plugins.

This module holds nothing but typed, documented hook stubs, grouped by the
phase of a run in which they are called. A plugin implements any subset of
them with functions of the same name marked ``@flambe.plugins.hookimpl``.

Every hook name starts with ``flambe_``. Hooks that return registrations
(tags, namespaces, commands, storage backends) return plain strings of the
form ``"module:attribute"`` so that registering costs no import: the module
is imported the first time a configuration or command uses it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from flambe.plugins import hookspec

if TYPE_CHECKING:  # pragma: no cover - types only
    from flambe.experiment.experiment import Experiment
    from flambe.plugins.types import ClusterRequest, ExperimentStatus, LazyCommand, StageStatus


# ---------------------------------------------------------------------------
# Registration: called once when the plugin host is built, before any config
# is loaded.
# ---------------------------------------------------------------------------


@hookspec
def flambe_tags() -> Mapping[str, str]:
    """Declare YAML tags: tag name -> ``"module:QualifiedName"``.

    Called once per plugin host, when the first tag is looked up or when
    ``flambe plugins`` lists the plugins. Nothing is imported: the target is
    imported the first time a configuration uses the tag. Declare one entry
    per name a class should answer to (aliases included); factory methods
    marked ``@registrable_factory`` need no entry (``!Class.factory`` is
    derived from ``!Class``). Tag names carry no leading ``!`` and may hold
    dots (``hello.Greeter``). Two plugins declaring the same name for
    different targets is an error naming both distributions.

    Returns
    -------
    Mapping[str, str]
        Tag name to import path.

    Example
    -------
    >>> @hookimpl
    ... def flambe_tags():
    ...     return {"TextClassifier": "flambe.nlp.classification:TextClassifier"}

    """


@hookspec
def flambe_tag_namespaces() -> Mapping[str, str]:
    """Declare tag namespaces resolved on demand: prefix -> ``"module:resolver"``.

    Called once per plugin host, like :func:`flambe_tags`. When a tag such
    as ``!torch.Adam`` is not registered by name, the resolver of its prefix
    (``torch``) is imported and called with the rest of the tag (``"Adam"``);
    it returns the class to use, or ``None`` when it knows no such name. A
    class that is not a Flambé component is wrapped in one automatically, so
    its constructor arguments get delayed initialisation and links.

    Returns
    -------
    Mapping[str, str]
        Namespace prefix (no dot) to the import path of a resolver function
        ``resolver(name: str) -> type | None``.

    Example
    -------
    >>> @hookimpl
    ... def flambe_tag_namespaces():
    ...     return {"sklearn": "flambe_sklearn.tags:resolve"}

    """


@hookspec
def flambe_search_algorithms() -> Mapping[str, str]:
    """Declare search algorithms: name -> ``"module:Class"``, used as ``!search.<name>``.

    Called once per plugin host. The class is imported the first time a
    config names it. It needs not come from Ray, but must implement Ray
    Tune's ``Searcher`` interface (``suggest``, ``on_trial_complete``): a
    searched stage asks it for the values of each trial. Core declares Ray
    Tune's own algorithms (``!search.OptunaSearch`` is ``!ray.OptunaSearch``).

    Returns
    -------
    Mapping[str, str]
        Algorithm name to its import path.

    Example
    -------
    >>> @hookimpl
    ... def flambe_search_algorithms():
    ...     return {"MySearch": "my_plugin.search:MySearch"}

    """


@hookspec
def flambe_experiment_executors() -> Mapping[str, str]:
    """Declare stage executors: name -> ``"module:Class"``.

    Called once per plugin host. An executor runs the variants of a stage
    (a subclass of :class:`flambe.experiment.executors.Executor`); an
    experiment picks one by name with ``executor:`` or ``flambe run
    --executor``. Core declares ``in_process``, ``local``, ``ray`` and
    ``ray_search``; a plugin adds its own (a batch system, a remote pool)
    under a new name.

    Returns
    -------
    Mapping[str, str]
        Executor name to the import path of its class.

    Example
    -------
    >>> @hookimpl
    ... def flambe_experiment_executors():
    ...     return {"slurm": "flambe_slurm.executor:SlurmExecutor"}

    """


# ---------------------------------------------------------------------------
# Command line: called when ``flambe`` builds its command group.
# ---------------------------------------------------------------------------


@hookspec
def flambe_cli_commands() -> Mapping[str, LazyCommand]:
    """Add subcommands to the ``flambe`` command line.

    Called once when the ``flambe`` command starts, for ``--help`` too, so
    it must not import the command's module: return
    :class:`flambe.plugins.types.LazyCommand` entries whose ``import_path``
    points to a ``click.Command``, imported only when the command runs.

    Returns
    -------
    Mapping[str, LazyCommand]
        Subcommand name to its lazy description.

    Example
    -------
    >>> @hookimpl
    ... def flambe_cli_commands():
    ...     return {"site": LazyCommand("flambe.report.cli:site", "Serve the report site.")}

    """


# ---------------------------------------------------------------------------
# Storage: called when a URL is read or written (flambe.load, Builder, resources).
# ---------------------------------------------------------------------------


@hookspec
def flambe_storage_backends() -> Mapping[str, str]:
    """Declare storage backends: URL scheme -> ``"module:Class"``.

    Called once per plugin host. The class is imported the first time a URL
    with that scheme is used, and must implement
    :class:`flambe.storage.StorageBackend` (``exists``, ``download``,
    ``upload``). Core provides ``file``, ``http`` and ``https``.

    Returns
    -------
    Mapping[str, str]
        Lower-case scheme (``"s3"``) to the backend's import path.

    Example
    -------
    >>> @hookimpl
    ... def flambe_storage_backends():
    ...     return {"s3": "flambe.cluster.storage:S3Backend"}

    """


# ---------------------------------------------------------------------------
# Remote execution: called by ``flambe run --cluster cluster.yaml``.
# ---------------------------------------------------------------------------


@hookspec(firstresult=True)
def flambe_run_on_cluster(request: ClusterRequest) -> int | None:
    """Run a :class:`~flambe.runnable.ClusterRunnable` on a cluster.

    Called after the main config was loaded and checked, when the user passed
    ``--cluster``. ``request`` carries the runnable, the cluster file, the
    extensions, the secrets file and the CLI flags. The first plugin that
    handles the cluster file returns the exit status; ``None`` means "not
    mine". When no plugin answers, Flambé says to install ``flambe-cluster``.
    Stops at the first non-``None`` result.

    Example
    -------
    >>> @hookimpl
    ... def flambe_run_on_cluster(request):
    ...     cluster = load_cluster(request.cluster_path)
    ...     return cluster.execute(request.runnable, force=request.force)

    """


# ---------------------------------------------------------------------------
# Experiment events: called by the experiment engine while it runs, in this
# order: experiment_started, then for each stage stage_started,
# (trial_result, checkpoint_written)*, stage_finished, and finally
# experiment_finished. Return values are ignored. ``experiment`` is the
# :class:`~flambe.experiment.experiment.Experiment` that runs. Flambé calls
# them through :class:`flambe.plugins.manager.PluginHost`, one typed method
# per hook (``host.trial_result(...)``); one that raises is logged, the
# others are still called.
# ---------------------------------------------------------------------------


@hookspec
def flambe_experiment_started(experiment: Experiment, output_path: str) -> None:
    """An experiment starts, after its config was checked and its output folder made.

    Example
    -------
    >>> @hookimpl
    ... def flambe_experiment_started(experiment, output_path):
    ...     mlflow.start_run(run_name=experiment.name)

    """


@hookspec
def flambe_stage_started(
    experiment: Experiment, stage: str, variants: Sequence[Mapping[str, Any]]
) -> None:
    """A pipeline stage starts; ``variants`` describes each of its variants.

    Each variant is a mapping with ``id`` (stable identity), ``name`` (its
    folder), ``params`` (the values chosen) and ``lineage`` (upstream stage
    -> variant id).

    Example
    -------
    >>> @hookimpl
    ... def flambe_stage_started(experiment, stage, variants):
    ...     print(f"{stage}: {len(variants)} variants")

    """


@hookspec
def flambe_trial_result(
    experiment: Experiment, stage: str, variant: str, result: Mapping[str, Any]
) -> None:
    """A variant of a stage finished one ``run()`` step.

    ``variant`` is the variant's id. ``result`` holds ``step``, ``metric``
    (``None`` when the component has no metric), ``score`` (the metric
    oriented so that higher is better) and ``name`` (the variant's folder).

    Example
    -------
    >>> @hookimpl
    ... def flambe_trial_result(experiment, stage, variant, result):
    ...     wandb.log({f"{stage}/{variant}": result["metric"]}, step=result["step"])

    """


@hookspec
def flambe_checkpoint_written(experiment: Experiment, stage: str, variant: str, path: str) -> None:
    """A trial wrote a checkpoint to ``path``, a folder ``flambe.load`` reads.

    Example
    -------
    >>> @hookimpl
    ... def flambe_checkpoint_written(experiment, stage, variant, path):
    ...     upload(path)

    """


@hookspec
def flambe_stage_finished(experiment: Experiment, stage: str, status: StageStatus) -> None:
    """A pipeline stage finished; ``status`` is ``"success"`` or ``"failure"``.

    Example
    -------
    >>> @hookimpl
    ... def flambe_stage_finished(experiment, stage, status):
    ...     print(stage, status)

    """


@hookspec
def flambe_experiment_finished(
    experiment: Experiment, output_path: str, status: ExperimentStatus
) -> None:
    """An experiment ended; ``status`` is ``"success"``, ``"failure"`` or ``"interrupted"``.

    Example
    -------
    >>> @hookimpl
    ... def flambe_experiment_finished(experiment, output_path, status):
    ...     notify(f"{experiment.name}: {status}")

    """
