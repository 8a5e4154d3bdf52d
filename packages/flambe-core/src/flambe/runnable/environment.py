"""What a runnable on a cluster knows about the cluster it runs on."""

from __future__ import annotations

from typing import Any

from flambe.compile.registrable import MappedRegistrable


class RemoteEnvironment(MappedRegistrable):
    """Addresses and credentials of a cluster, given to a ClusterRunnable running on it.

    It is set as :attr:`~flambe.runnable.ClusterRunnable.env` before the
    runnable is shipped, and travels inside the runnable's YAML (tag
    ``!RemoteEnvironment``), so every field must survive a YAML round trip.

    Parameters
    ----------
    key : str
        Path, on the cluster, of the key its hosts use to reach each other.
    orchestrator_ip : str
        Address of the orchestrator as the workers see it (usually private).
    factories_ips : list of str
        Addresses of the workers as the other hosts see them.
    user : str
        The user name on every host.
    local_user : str, optional
        The user who launched the run on their own machine.
    public_orchestrator_ip : str, optional
        The orchestrator's public address, if any.
    public_factories_ips : list of str, optional
        The workers' public addresses, if any.

    """

    def __init__(
        self,
        key: str,
        orchestrator_ip: str,
        factories_ips: list[str],
        user: str,
        local_user: str | None = None,
        public_orchestrator_ip: str | None = None,
        public_factories_ips: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        self.key = key
        self.orchestrator_ip = orchestrator_ip
        self.factories_ips = list(factories_ips)
        self.user = user
        self.local_user = local_user
        self.public_orchestrator_ip = public_orchestrator_ip
        self.public_factories_ips = (
            list(public_factories_ips) if public_factories_ips is not None else None
        )
        # what MappedRegistrable dumps: the seven fields, always
        self._saved_kwargs = {
            "key": key,
            "orchestrator_ip": orchestrator_ip,
            "factories_ips": self.factories_ips,
            "user": user,
            "local_user": local_user,
            "public_orchestrator_ip": public_orchestrator_ip,
            "public_factories_ips": self.public_factories_ips,
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RemoteEnvironment):
            return NotImplemented
        return self._saved_kwargs == other._saved_kwargs

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._saved_kwargs.items())
        return f"RemoteEnvironment({fields})"
