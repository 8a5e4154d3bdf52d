"""``SSHCluster``: a cluster over machines you can already ssh to.

.. code-block:: yaml

    !SSHCluster
    name: my-cluster
    orchestrator_ip: [54.1.1.1, 10.0.0.1]      # [public, private], or one address
    factories_ips:
      - [54.1.1.2, 10.0.0.2]
      - 10.0.0.3
    key: ~/.ssh/id_ed25519
    username: ubuntu
    use_public: true
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flambe.cluster.cluster import Cluster
from flambe.cluster.errors import ClusterConfigurationError

Address = str | Sequence[str]


def _pair(value: Address, what: str) -> tuple[str, str]:
    """``(public, private)`` from ``"ip"`` or ``[public, private]``."""
    if isinstance(value, str) and value:
        return value, value
    if (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and all(isinstance(v, str) and v for v in value)
    ):
        return value[0], value[1]
    raise ClusterConfigurationError(
        f"{what}: {value!r} is not an address",
        hint="give one address (10.0.0.2) or a [public, private] pair ([54.1.1.2, 10.0.0.2])",
    )


class SSHCluster(Cluster):
    """A cluster of existing machines reached over SSH.

    Parameters
    ----------
    name : str
        The cluster's name.
    orchestrator_ip : str or [public, private]
        The orchestrator's address(es).
    factories_ips : list
        Each factory's address(es).
    key : str
        Your private key; its public key must be in ``~/.ssh/authorized_keys`` of
        ``username`` on every host. It is never uploaded.
    username : str
        The user on every host.
    remote_context : Any, optional
        Kept for configs of the original Flambé.
    use_public : bool
        Connect from this machine to the public addresses (else to the private ones).
    setup_cmds : list of str, optional
        Shell commands run on every host at bring-up.
    **kwargs
        The other options of :class:`~flambe.cluster.Cluster` (``python``,
        ``system_site_packages``, ``install_flambe``, ``ssh_port``).

    """

    def __init__(
        self,
        name: str,
        orchestrator_ip: Address,
        factories_ips: list[Address],
        key: str,
        username: str,
        remote_context: Any = None,
        use_public: bool = True,
        setup_cmds: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(factories_ips, list):
            raise ClusterConfigurationError("factories_ips must be a list of addresses")
        super().__init__(name, len(factories_ips), key, username, setup_cmds, **kwargs)
        self.orchestrator_ips = _pair(orchestrator_ip, "orchestrator_ip")
        self.factories_ips_pairs = [
            _pair(f, f"factories_ips[{i}]") for i, f in enumerate(factories_ips)
        ]
        self.remote_context = remote_context
        self.use_public = bool(use_public)

    def load_all_instances(self, exp_name: str | None = None, force: bool = False) -> None:
        """Build the host objects from the configured addresses."""
        public, private = self.orchestrator_ips
        self.orchestrator = self.get_orchestrator(public, private, self.use_public)
        self.factories = [
            self.get_factory(p, q, self.use_public, index=i)
            for i, (p, q) in enumerate(self.factories_ips_pairs)
        ]
