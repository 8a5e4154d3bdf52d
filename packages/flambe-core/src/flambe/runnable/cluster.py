"""The cluster contract: what a ClusterRunnable may ask of a cluster.

flambe-core defines the contract; the ``flambe-cluster`` distribution
implements it (SSH hosts, AWS). A cluster is itself a runnable: running its
config (``flambe run cluster.yaml``) brings the cluster up, or reuses it
when it is up already. ``flambe run experiment.yaml --cluster cluster.yaml``
hands the experiment to flambe-cluster through the
``flambe_run_on_cluster`` hook, which brings the cluster up, calls the
runnable's :meth:`~flambe.runnable.ClusterRunnable.setup_inject_env` with
it, then :meth:`Cluster.execute`.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING, Any

from flambe.runnable.runnable import Runnable

if TYPE_CHECKING:  # pragma: no cover - types only
    from flambe.runnable.environment import RemoteEnvironment
    from flambe.runnable.runnable import ClusterRunnable


class Cluster(Runnable):
    """A set of hosts (an orchestrator and workers) that runs ClusterRunnables.

    Paths given to the methods below are relative to the orchestrator's
    home folder unless they are absolute.
    """

    @abstractmethod
    def run(self, force: bool = False, **kwargs: Any) -> None:  # type: ignore[override]
        """Bring the cluster up, or connect to it when it is already up.

        Idempotent: running it twice against a live cluster reuses it.
        ``force`` lets an implementation replace hosts in a bad state.
        """

    @abstractmethod
    def get_remote_env(self) -> RemoteEnvironment:
        """The environment a runnable on this cluster sees (addresses, key, user)."""

    @abstractmethod
    def execute(
        self,
        runnable: ClusterRunnable,
        extensions: dict[str, str],
        secrets: str | None,
        force: bool,
    ) -> int:
        """Start ``runnable`` on the cluster and return the exit status of the submission.

        Parameters
        ----------
        runnable : ClusterRunnable
            The runnable, already set up (its ``env`` is set).
        extensions : dict
            Module name -> location valid on the cluster.
        secrets : str, optional
            Path on the cluster of the secrets file, if any.
        force : bool
            The ``--force`` flag.

        """

    @abstractmethod
    def send_local_content(
        self, content: dict[str, str], dest: str, all_hosts: bool = False
    ) -> dict[str, str]:
        """Upload local files or folders; returns each key's location on the cluster.

        Values that are not existing local paths are returned unchanged.
        """

    @abstractmethod
    def existing_dir(self, path: str) -> bool:
        """Whether ``path`` exists on any host of the cluster."""

    @abstractmethod
    def remove_dir(self, path: str, content_only: bool = True, all_hosts: bool = True) -> None:
        """Delete ``path`` (or only what it holds) on the orchestrator or on every host."""

    @abstractmethod
    def get_max_resources(self) -> dict[str, float]:
        """The resources one worker can offer a trial: ``{"cpu": n, "gpu": m}``."""

    def rollback_env(self) -> None:
        """Undo a partial bring-up after a failure; the default does nothing."""
