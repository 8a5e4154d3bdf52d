"""``!Experiment``: a pipeline of stages, its variants, search and reduce.

A pipeline is an ordered mapping of stages; links between them define a
DAG. Each stage expands into variants up front (its own search options
times the surviving variants of the stages it links to); every variant runs
``run()`` until it returns False, reporting ``metric()`` and checkpointing
after each call. ``reduce: {stage: k}`` keeps the best k variants of a stage
for the stages downstream.

Execution: a stage with one variant and no scheduler or search algorithm
runs in this process (an experiment without search never starts Ray); any
other stage is one Ray Tune run. Rerunning the same config on the same
output folder continues: finished variants whose config, lineage and class
versions are unchanged are reused, unfinished ones continue from their last
checkpoint.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flambe.errors import ConfigError, ExperimentFailed, FlambeError
from flambe.runnable.runnable import ClusterRunnable

logger = logging.getLogger(__name__)

__all__ = ["Experiment", "ExperimentFailed", "stage_key_problems"]

NAME_RE = re.compile(r"^([a-zA-Z0-9]+[_-]*)+$")
DEFAULT_MAX_VARIANTS = 1000


def _output_folder(path: str) -> str:
    """Return the absolute local folder of ``save_path`` (a path or ``file://`` URL).

    A ``scheme://`` URL that no installed plugin serves is refused (naming
    the distribution that serves it), instead of becoming a local folder
    named ``s3:``; one that a plugin serves is kept as written.
    """
    from flambe import storage

    if storage.is_local(path):
        return os.path.abspath(storage.local_path(path))
    storage.backend_for(path, "save_path")
    return path


def _check_resource_schemes(resources: Any) -> None:
    """Refuse resources at URLs that no installed plugin serves, before anything runs."""
    from flambe import storage
    from flambe.experiment.resources import ClusterPath, flatten

    if not isinstance(resources, Mapping):
        return
    for name, location in flatten(resources).items():
        if isinstance(location, ClusterPath) or not isinstance(location, str):
            continue
        try:
            storage.backend_for(location, f"resource '{name}':")
        except storage.StorageError as exc:
            raise ConfigError(exc.message, hint=exc.hint) from None


def _config_folder(schema: Any) -> str:
    """The folder of the config file a schema was loaded from (relative paths start there)."""
    location = getattr(schema, "location", None)
    if location is not None and os.path.isfile(location.file):
        return str(os.path.dirname(os.path.abspath(location.file)))
    return os.getcwd()


def _has_metric(cls: type) -> bool:
    """Whether a component class defines its own ``metric()``."""
    from flambe.compile.component import Component

    return getattr(cls, "metric", None) is not Component.metric


_STAGE_FIELDS = ("reduce", "search", "schedulers", "num_samples")


def _executor_problem(name: Any) -> ConfigError | None:
    """Return the problem with an ``executor:`` value, if any (a name no plugin declares)."""
    from flambe.experiment.executors.registry import available_executors

    known = sorted({"auto", "local", "ray", *available_executors()})
    if isinstance(name, str) and name in known:
        return None
    return ConfigError(f"unknown executor {name!r}", hint="use one of: " + ", ".join(known))


def _name_problem(name: Any) -> ConfigError | None:
    """Return the problem with an experiment name, if any (its output folder is named after it)."""
    if isinstance(name, str) and NAME_RE.match(name):
        return None
    return ConfigError(
        f"invalid experiment name {name!r}",
        hint="use letters and digits, optionally joined by '_' or '-'",
    )


def stage_key_problems(
    pipeline: Mapping[str, Any],
    values: Mapping[str, Any],
    locate: Callable[[str], Any] | None = None,
) -> list[FlambeError]:
    """Problems with the stages named by reduce, search, schedulers, num_samples and resume.

    The one implementation of these checks, used when an experiment is built
    (``flambe run``) and by :meth:`Experiment.validate_config` (``flambe
    validate``), so both report the same problems.

    Parameters
    ----------
    pipeline : Mapping[str, Any]
        The stages, by name (schemas).
    values : Mapping[str, Any]
        The experiment's ``reduce``, ``search``, ``schedulers``,
        ``num_samples`` and ``resume`` arguments (missing ones are empty).
    locate : callable, optional
        The location of an argument of the experiment, given its name.

    Returns
    -------
    list of FlambeError
        Empty when every name is a stage.

    """
    where = locate or (lambda key: None)
    stages = list(pipeline)
    fields = {f: values.get(f) for f in _STAGE_FIELDS if isinstance(values.get(f), Mapping)}
    problems: list[FlambeError] = []
    for field_name, value in fields.items():
        problems.extend(_unknown_stages(field_name, list(value or {}), stages, where))
    resume = values.get("resume")
    resume = [resume] if isinstance(resume, str) else resume
    if isinstance(resume, (list, tuple)):
        problems.extend(_unknown_stages("resume", list(resume), stages, where))
    problems.extend(_metric_problems(pipeline, fields))
    for stage, k in (fields.get("reduce") or {}).items():
        if not isinstance(k, int) or k < 0:
            problems.append(
                ConfigError(
                    f"reduce: {stage}: {k!r} is not a number of variants",
                    where("reduce"),
                    hint="give a whole number, 0 keeps all",
                )
            )
    return problems


def _unknown_stages(
    field_name: str, keys: list[Any], stages: list[str], where: Callable[[str], Any]
) -> list[FlambeError]:
    """Return a problem for each key of ``field_name`` that is not a stage."""
    what = (
        "which is not a stage of the pipeline" if field_name != "resume" else "which is not a stage"
    )
    return [
        ConfigError(
            f"{field_name} names '{key}', {what}",
            where(field_name),
            hint="stages: " + ", ".join(stages),
        )
        for key in keys
        if key not in stages
    ]


def _metric_problems(pipeline: Mapping[str, Any], fields: Mapping[str, Any]) -> list[FlambeError]:
    """Return a problem for each stage ranked (schedulers, search, reduce) without metric()."""
    problems: list[FlambeError] = []
    for field_name in ("schedulers", "search", "reduce"):
        for stage in fields.get(field_name) or {}:
            schema = pipeline.get(stage)
            cls = getattr(schema, "component_subclass", None)
            if cls is not None and not _has_metric(cls):
                problems.append(
                    ConfigError(
                        f"{field_name}: stage '{stage}' ({cls.__name__}) has no metric() to "
                        "rank its variants by",
                        getattr(schema, "location", None),
                        hint=f"give {cls.__name__} a metric() method, or drop the "
                        f"{field_name} entry",
                    )
                )
    return problems


class Experiment(ClusterRunnable):
    """A pipeline of stages run with search, reduce, checkpoints and resume.

    Parameters
    ----------
    name : str
        Letters, digits, ``_`` and ``-``; the output folder is ``output__<name>``.
    pipeline : dict
        Stage name -> component config, in execution order.
    save_path : str, optional
        Where ``output__<name>`` goes (default ``./flambe-output``): a local
        folder or ``file://`` URL. A ``scheme://`` URL is refused.
    resources : dict, optional
        Files and folders the pipeline links to by name (local paths or URLs).
    search : dict, optional
        Stage -> a Ray Tune search algorithm (``!ray.OptunaSearch {}``).
    schedulers : dict, optional
        Stage -> a Ray Tune trial scheduler (``!ray.HyperBandScheduler {}``).
    reduce : dict, optional
        Stage -> how many of its best variants the later stages see.
    num_samples : dict, optional
        Stage -> how many random samples its distributions draw.
    resume : str or list, optional
        Reuse the finished variants of these stages, even when the config
        changed elsewhere: a name means every stage up to and including it,
        a list exactly those stages. The other stages run again.
    devices : dict, optional
        Resources per trial, e.g. ``{cpu: 1, gpu: 0.5}`` (default one CPU,
        plus one GPU when there is one).
    seed : int, optional
        Seed of everything drawn at random (``!s``, distributions); drawn
        and recorded in ``experiment.yaml`` when not given.
    max_failures : int
        Retries of a failing trial, from its last checkpoint.
    stop_on_failure : bool
        Stop after a stage where a variant failed (else continue with the
        variants that succeeded, and fail at the end).
    max_variants : int
        Refuse a stage that expands to more variants than this.
    debug : bool
        Run everything in this process, stopping in pdb before each ``run()``.
    merge_plot : bool
        Kept for configs of the original Flambé (TensorBoard folders are per variant).
    ray_address : str, optional
        Run the multi-variant stages on this existing Ray cluster (``host:port``, ``ray://...``)
        instead of a local Ray; ``flambe run --ray-address`` and ``RAY_ADDRESS`` take
        precedence.
    executor : str
        How stages with several variants run: ``auto`` (default: a pool of
        local processes, Ray Tune for stages with a scheduler or search
        algorithm and on a Ray cluster), ``local``, ``ray``, or the name of an
        executor a plugin declares. ``flambe run --executor`` takes precedence.

    """

    _flambe_raw_arguments = ("pipeline",)

    def __init__(
        self,
        name: str,
        pipeline: Mapping[str, Any],
        save_path: str | None = None,
        resources: Mapping[str, Any] | None = None,
        search: Mapping[str, Any] | None = None,
        schedulers: Mapping[str, Any] | None = None,
        reduce: Mapping[str, int] | None = None,
        num_samples: Mapping[str, int] | None = None,
        resume: str | Sequence[str] | None = None,
        devices: Mapping[str, float] | None = None,
        seed: int | None = None,
        max_failures: int = 0,
        stop_on_failure: bool = True,
        max_variants: int = DEFAULT_MAX_VARIANTS,
        debug: bool = False,
        merge_plot: bool = True,
        ray_address: str | None = None,
        executor: str = "auto",
    ) -> None:
        super().__init__()
        if not isinstance(pipeline, Mapping):
            raise ConfigError(
                f"pipeline must map stage names to components, got {type(pipeline).__name__}"
            )
        problem = _name_problem(name)
        if problem is not None:
            raise problem
        self.name = name
        self.pipeline = dict(pipeline)
        self.save_path = _output_folder(save_path or "flambe-output")
        self.resources = resources or {}
        _check_resource_schemes(self.resources)
        self.search = dict(search or {})
        self.schedulers = dict(schedulers or {})
        self.reduce = dict(reduce or {})
        self.num_samples = dict(num_samples or {})
        # a name resumes every stage up to it; a list resumes exactly those stages
        self.resume_up_to = isinstance(resume, str)
        self.resume = [resume] if isinstance(resume, str) else list(resume or [])
        self.devices = dict(devices) if devices else None
        self.seed = seed
        self.max_failures = max_failures
        self.stop_on_failure = stop_on_failure
        self.max_variants = max_variants
        self.debug = debug
        self.merge_plot = merge_plot
        self.ray_address = ray_address
        self.executor = executor
        self._check_executor()
        from flambe.experiment.executors.choice import refuse_ray_client

        refuse_ray_client(ray_address, "ray_address")
        for found in self.check_keys():
            raise found
        self._check_links()

    def _check_executor(self) -> None:
        """Refuse an unknown executor, and ``local`` for a stage that needs Ray Tune."""
        problem = _executor_problem(self.executor)
        if problem is not None:
            raise problem
        if self.executor == "local":  # refused before anything runs
            from flambe.experiment.executors.choice import choose_executor

            for stage in self.pipeline:
                choose_executor(stage, self)

    # -- checks ---------------------------------------------------------------------
    @property
    def output_path(self) -> str:
        """``<save_path>/output__<name>``."""
        return os.path.join(self.save_path, f"output__{self.name}")

    def check_keys(self) -> list[FlambeError]:
        """Problems with the stage names used by reduce, search, schedulers, resume."""
        return stage_key_problems(
            self.pipeline,
            {
                "reduce": self.reduce,
                "search": self.search,
                "schedulers": self.schedulers,
                "num_samples": self.num_samples,
                "resume": self.resume,
            },
        )

    def _check_links(self) -> None:
        """A link to a name that is no earlier stage and no resource fails here, with its place."""
        import copy

        from flambe.compile.binding import bind_links
        from flambe.experiment.resources import flatten

        names = flatten(self.resources) if isinstance(self.resources, Mapping) else {}
        # bound on a copy: the pipeline itself stays as loaded
        bind_links(copy.deepcopy(self.pipeline), globals_={n: n for n in names}, strict=True)

    @classmethod
    def validate_config(cls, schema: Any) -> list[FlambeError]:
        """Checks ``flambe validate`` runs on an experiment config (with locations)."""
        from flambe.compile.schema import Schema

        problems: list[FlambeError] = []
        pipeline = schema.keywords.get("pipeline")
        if not isinstance(pipeline, Mapping):
            return [
                ConfigError("an experiment needs a pipeline: a mapping of stages", schema.location)
            ]
        if "name" in schema.keywords and isinstance(schema.keywords["name"], str):
            problem = _name_problem(schema.keywords["name"])
            if problem is not None:
                problems.append(problem.at(schema.key_location("name")))
        problems.extend(stage_key_problems(pipeline, schema.keywords, schema.key_location))
        executor = schema.keywords.get("executor")
        if executor is not None:
            problem = _executor_problem(executor)
            if problem is not None:
                problems.append(problem.at(schema.key_location("executor")))
        address = schema.keywords.get("ray_address")
        if isinstance(address, str):
            from flambe.experiment.executors.choice import refuse_ray_client

            try:
                refuse_ray_client(address, "ray_address")
            except ConfigError as exc:
                problems.append(exc.at(schema.key_location("ray_address")))
        for stage, value in pipeline.items():
            if not isinstance(value, Schema):
                problems.append(
                    ConfigError(
                        f"stage '{stage}' is not a component (write !Tag ...)",
                        schema.key_location("pipeline"),
                    )
                )
        resources = schema.keywords.get("resources") or {}
        try:
            _check_resource_schemes(resources)
        except ConfigError as exc:
            problems.append(exc.at(schema.key_location("resources")))
        save_path = schema.keywords.get("save_path")
        if isinstance(save_path, str):
            try:
                _output_folder(save_path)
            except FlambeError as exc:
                problems.append(exc.at(schema.key_location("save_path")))
        if isinstance(resources, Mapping):
            from flambe.experiment.resources import missing_resources

            problems.extend(
                missing_resources(
                    resources, _config_folder(schema), schema.key_location("resources")
                )
            )
        return problems

    @classmethod
    def config_link_names(cls, schema: Any) -> list[str]:
        """The names links may use besides stages: the resources."""
        from flambe.experiment.resources import flatten

        resources = schema.keywords.get("resources") or {}
        return list(flatten(resources)) if isinstance(resources, Mapping) else []

    # -- running --------------------------------------------------------------------
    def setup(self, cluster: Any, extensions: dict[str, str], force: bool, **kwargs: Any) -> None:
        """Prepare a cluster run: outputs go under the cluster's home folder."""
        remote_home = getattr(cluster, "orchestrator_home", None)
        if remote_home:
            self.set_serializable_attr("save_path", os.path.join(remote_home, self.name))
        # local resources are uploaded to every host; URLs and cluster paths pass unchanged
        from flambe.experiment.resources import flatten

        resources = {name: str(value) for name, value in flatten(self.resources).items()}
        if resources:
            location = getattr(getattr(self, "_schema", None), "location", None)
            base = (
                os.path.dirname(os.path.abspath(location.file))
                if location is not None and os.path.isfile(location.file)
                else os.getcwd()
            )
            local = {
                name: os.path.join(base, os.path.expanduser(value))
                if "://" not in value
                and os.path.exists(os.path.join(base, os.path.expanduser(value)))
                else value
                for name, value in resources.items()
            }
            sent = cluster.send_local_content(
                local, os.path.join("resources", self.name), all_hosts=True
            )
            self.set_serializable_attr(
                "resources", {n: sent.get(n, resources[n]) for n in resources}
            )

    def run(
        self,
        force: bool = False,
        verbose: bool = False,
        debug: bool = False,
        executor: str | None = None,
        **kwargs: Any,
    ) -> bool:
        """Run the whole pipeline (see the module documentation).

        ``executor`` (``flambe run --executor``) overrides the experiment's.
        """
        from flambe import storage
        from flambe.experiment.engine import Engine
        from flambe.experiment.executors.choice import RunOptions

        if not storage.is_local(self.save_path):
            # a plugin serves the scheme (else __init__ refused it), but a running
            # experiment writes its outputs to a local folder, never to a URL
            raise ConfigError(
                f"save_path {self.save_path}: a local run writes its outputs to a local folder; "
                f"{storage.scheme_of(self.save_path)}:// can hold saves, resources and Builder "
                "destinations, not the output folder of a running experiment",
                hint="give a local save_path, then save what you need to the URL with a "
                "!Builder or flambe.save",
            )
        self.parse()
        from flambe.experiment.executors.choice import refuse_ray_client

        refuse_ray_client(os.environ.get("RAY_ADDRESS"), "RAY_ADDRESS")
        if self.ray_address and not os.environ.get("RAY_ADDRESS"):
            os.environ["RAY_ADDRESS"] = self.ray_address  # read when a stage starts Ray
        debug = debug or self.debug
        options = RunOptions.from_environment(executor=executor, debug=debug)
        Engine(self, force=force, verbose=verbose, debug=debug, options=options).run()
        return False

    def parse(self) -> None:
        """Resolve a relative ``save_path`` written in the config from the config's folder.

        Relative paths written in a config (resources, outputs) start from the
        folder of the config file, wherever flambe runs; the default
        ``flambe-output`` (no ``save_path`` written) is in the current folder.
        """
        from flambe import storage

        schema = getattr(self, "_schema", None)
        written = schema.keywords.get("save_path") if schema is not None else None
        if not isinstance(written, str) or not storage.is_local(written):
            return
        path = os.path.expanduser(storage.local_path(written))
        location = getattr(schema, "location", None)
        if not os.path.isabs(path) and os.path.isfile(getattr(location, "file", "")):
            self.save_path = os.path.abspath(os.path.join(_config_folder(schema), path))
