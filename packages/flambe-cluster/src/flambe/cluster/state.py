"""The local state of each cluster: ``$FLAMBE_HOME/clusters/<name>/``.

It holds the pinned host keys (``known_hosts``), the cluster's own key pair for host-to-host
traffic, Ray's authentication token, and ``hosts.json``: the
hosts of the last bring-up (addresses, roles, cloud ids) that ``flambe cluster ...`` reads.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from pathlib import Path
from typing import Any

from flambe.cluster.errors import ClusterError

_LOCK = threading.Lock()


def clusters_root() -> Path:
    """``$FLAMBE_HOME/clusters``."""
    from flambe.utils.paths import flambe_home

    return flambe_home() / "clusters"


class ClusterState:
    """The state folder of one cluster.

    Parameters
    ----------
    name : str
        The cluster's name.

    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.folder = clusters_root() / name

    def ensure(self) -> Path:
        """Create the folder (owner-only) and return it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        return self.folder

    @property
    def known_hosts(self) -> Path:
        """The pinned host keys, in OpenSSH's ``known_hosts`` format."""
        return self.folder / "known_hosts"

    @property
    def private_key(self) -> Path:
        """The cluster's own private key (hosts reach each other with it)."""
        return self.folder / "cluster_key"

    @property
    def public_key(self) -> Path:
        """The cluster's own public key."""
        return self.folder / "cluster_key.pub"

    @property
    def hosts_file(self) -> Path:
        """``hosts.json``: the hosts of the last bring-up."""
        return self.folder / "hosts.json"

    @property
    def wheels(self) -> Path:
        """The wheels built for the hosts (shared by every cluster of this machine)."""
        return clusters_root().parent / "cache" / "cluster-wheels"

    def exists(self) -> bool:
        """Whether the cluster was brought up from this machine."""
        return self.hosts_file.is_file()

    # -- key pair and token ---------------------------------------------------------
    def key_pair(self) -> tuple[str, str]:
        """The cluster's key pair (private PEM text, public key line), made on first use."""
        with _LOCK:
            if not self.private_key.exists():
                import paramiko

                self.ensure()
                key = paramiko.RSAKey.generate(2048)
                key.write_private_key_file(str(self.private_key))
                os.chmod(self.private_key, 0o600)
                self.public_key.write_text(
                    f"{key.get_name()} {key.get_base64()} flambe-cluster-{self.name}\n"
                )
        return self.private_key.read_text(), self.public_key.read_text().strip()

    def ray_token(self) -> str:
        """Ray's authentication token for this cluster, made on first use."""
        path = self.folder / "ray_auth_token"
        with _LOCK:
            if not path.exists():
                self.ensure()
                path.write_text(secrets.token_hex(32))
                os.chmod(path, 0o600)
        return path.read_text().strip()

    # -- hosts ----------------------------------------------------------------------
    def save_hosts(self, record: dict[str, Any]) -> None:
        """Write ``hosts.json`` (atomically)."""
        self.ensure()
        tmp = self.hosts_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=2, sort_keys=True))
        os.replace(tmp, self.hosts_file)

    def load_hosts(self) -> dict[str, Any]:
        """The record of the last bring-up.

        Raises
        ------
        ClusterError
            No cluster of that name was brought up from this machine.

        """
        if not self.hosts_file.is_file():
            known = ", ".join(list_clusters()) or "none"
            raise ClusterError(
                f"no cluster named {self.name!r} was brought up from this machine (known: {known})",
                hint="bring it up with: flambe run cluster.yaml",
            )
        return json.loads(self.hosts_file.read_text())

    def forget_hosts(self) -> None:
        """Remove ``hosts.json`` (the cluster is down); keys and pinned hosts stay."""
        if self.hosts_file.exists():
            self.hosts_file.unlink()


def list_clusters() -> list[str]:
    """Names of the clusters with a record on this machine."""
    root = clusters_root()
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if (p / "hosts.json").is_file())


def find_cluster(name: str | None) -> ClusterState:
    """The state of ``name``, or of the only known cluster when ``name`` is None."""
    if name:
        return ClusterState(name)
    names = list_clusters()
    if len(names) == 1:
        return ClusterState(names[0])
    raise ClusterError(
        "name the cluster" if names else "no cluster was brought up from here",
        hint=("known clusters: " + ", ".join(names))
        if names
        else "bring one up with: flambe run cluster.yaml",
    )
