"""Small value types shared between Flambé and plugins (no heavy imports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # pragma: no cover - types only
    from flambe.runnable.runnable import ClusterRunnable

# how a stage ended, as the event hooks and progress.json say it
StageStatus = Literal["success", "failure"]
# how an experiment ended
ExperimentStatus = Literal["success", "failure", "interrupted"]


@dataclass(frozen=True)
class LazyCommand:
    """A ``flambe`` subcommand imported only when it runs.

    Parameters
    ----------
    import_path : str
        ``"module:attribute"`` of a ``click.Command``.
    short_help : str
        One line shown by ``flambe --help``.

    """

    import_path: str
    short_help: str = ""


@dataclass
class ClusterRequest:
    """What ``flambe run --cluster`` hands to the remote-execution hook.

    Parameters
    ----------
    runnable : ClusterRunnable
        The compiled :class:`~flambe.runnable.ClusterRunnable`.
    config_path : str
        The main config file.
    cluster_path : str
        The cluster config file given to ``--cluster``.
    extensions : dict
        The extensions header of the main config (module -> location).
    secrets : str, optional
        The secrets file given to ``--secrets``.
    force, debug, verbose : bool
        The CLI flags.

    """

    runnable: ClusterRunnable
    config_path: str
    cluster_path: str
    extensions: dict[str, str] = field(default_factory=dict)
    secrets: str | None = None
    force: bool = False
    debug: bool = False
    verbose: bool = False
