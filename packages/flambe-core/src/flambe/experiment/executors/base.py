"""The executor interface: one way of running the variants of a stage.

The engine hands an executor a :class:`StageJob` (the stage, the plans of
the variants to run, or the search plan of a searched stage, and how to run
them) and :class:`StageEvents` (what to call when a variant starts, reports a
step or fails for good). The executor returns a :class:`StageOutcome`: the
best score of every variant that finished and the error of every one that
failed. It is made once per experiment and closed at its end, so a pool of
workers or a Ray instance is started once.

Executors are chosen per stage (:func:`~flambe.experiment.executors.choice.choose_executor`)
and found by name in the registry plugins extend (the
``flambe_experiment_executors`` hook).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from flambe.experiment.identity import Variant
from flambe.experiment.trial import TrialPlan


@dataclass
class StageJob:
    """What an executor runs: the variants of one stage, and how.

    Parameters
    ----------
    stage : str
        The stage.
    plans : dict
        Variant id -> plan, for variants listed up front (empty for a searched stage).
    output : str
        The experiment's output folder.
    resources : dict
        What each trial needs (``{"cpu": 1, "gpu": 0.5}``).
    max_failures : int
        Retries of a failing trial, from its last checkpoint.
    stop_on_failure : bool
        Stop the stage at the first variant that fails for good.
    scheduler : Any, optional
        A Ray Tune trial scheduler.
    search : Any, optional
        For a searched stage: the :class:`~flambe.experiment.search.SearchPlan`.
    search_alg : Any, optional
        The search algorithm proposing the values.
    space : dict, optional
        The Tune search space of a searched stage.
    samples : int
        Trials of a searched stage.
    modules : list of str
        Modules defining the classes of the pipeline (imported by workers first).
    live : dict
        Variant id -> the built upstream components it links to, when they
        live in this process (only an in-process executor can use them).

    """

    stage: str
    plans: dict[str, TrialPlan]
    output: str
    resources: dict[str, float] = field(default_factory=lambda: {"cpu": 1.0})
    max_failures: int = 0
    stop_on_failure: bool = True
    scheduler: Any = None
    search: Any = None
    search_alg: Any = None
    space: dict[str, Any] | None = None
    samples: int = 1
    modules: list[str] = field(default_factory=list)
    live: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class StageEvents:
    """What an executor calls while a stage runs (in the engine's process).

    Parameters
    ----------
    on_start : callable
        ``(variant id)``: the variant starts running.
    on_result : callable
        ``(variant id, result)``: a step finished; ``result`` has the keys a
        Tune result of :class:`~flambe.experiment.tune_runner.FlambeTrainable` has.
    on_error : callable
        ``(variant id or trial key, traceback text)``: a variant failed for good.
    on_failure : callable
        ``(variant id, error text)``: mark a variant failed without reporting it again.
    on_trial_error : callable
        ``(trial key, traceback text)``: report a failed trial whose variant is
        not known yet (a searched stage), without marking any variant.

    """

    on_start: Callable[[str], None]
    on_result: Callable[[str, Mapping[str, Any]], None]
    on_error: Callable[[str, str], None]
    on_failure: Callable[[str, str], None]
    on_trial_error: Callable[[str, str], None]


@dataclass
class StageOutcome:
    """What running a stage gave.

    Parameters
    ----------
    scores : dict
        Variant id -> best score, for every variant that finished.
    failed : dict
        Variant id (or trial key) -> error text, for every variant that failed.
    found : list of Variant
        The variants a search algorithm proposed (a searched stage only).
    live : tuple, optional
        ``(variant id, component)`` of the last variant built in this process.

    """

    scores: dict[str, float | None] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    found: list[Variant] = field(default_factory=list)
    live: tuple[str, Any] | None = None


class Executor(ABC):
    """Runs the variants of stages; made once per experiment, closed at its end.

    Parameters
    ----------
    verbose : bool
        Show every log record of the trials.

    """

    name: ClassVar[str] = ""

    def __init__(self, verbose: bool = False) -> None:
        self.verbose = verbose

    @abstractmethod
    def run(self, job: StageJob, events: StageEvents) -> StageOutcome:
        """Run the variants of ``job``; return their scores and errors.

        ``KeyboardInterrupt`` (Ctrl-C) and :class:`~flambe.errors.DiskFullError`
        propagate: the engine stops the experiment, keeping what is done.
        """

    def close(self) -> None:  # noqa: B027 - most executors hold nothing to release
        """Release what the executor started (worker processes, a Ray instance)."""
