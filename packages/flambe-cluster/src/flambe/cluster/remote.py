"""Remote experiments: what ``flambe run exp.yaml --cluster cluster.yaml`` does.

The cluster is brought up (or reused), the extensions and secrets are uploaded, the runnable
prepares the cluster (its resources become paths on the hosts) and is started on the
orchestrator, detached from this SSH session, against the cluster's Ray: its trials spread
over the factories. The command prints where it runs and how to follow it.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from flambe.cluster.errors import ClusterError

logger = logging.getLogger(__name__)


def load_cluster(path: str, secrets: str | None = None) -> Any | None:
    """The cluster a config file describes; ``None`` when it describes no flambe-cluster class.

    Raises
    ------
    ConfigError
        The file cannot be read or loaded (with its location).

    """
    from flambe.cluster.cluster import Cluster
    from flambe.runnable.context import build_runnable, load_runnable_config

    loaded = load_runnable_config(path)
    if not issubclass(loaded.runnable_class, Cluster):
        return None
    return build_runnable(loaded, secrets=secrets)


def upload_extensions(cluster: Any, extensions: dict[str, str], base_dir: str) -> dict[str, str]:
    """Upload local extensions to every host and install them everywhere.

    Returns
    -------
    dict
        Module name -> location valid on the hosts (pip requirements pass unchanged).

    """
    from flambe.cluster import const

    local = {}
    for name, location in extensions.items():
        path = os.path.join(base_dir, os.path.expanduser(location))
        local[name] = os.path.abspath(path) if os.path.exists(path) else location
    remote = cluster.send_local_content(local, const.REMOTE_EXTENSIONS, all_hosts=True)
    if remote:
        cluster.install_extensions_in_orchestrator(remote)
        cluster.install_extensions_in_factories(remote)
    return remote


def submit(request: Any) -> int | None:
    """Run ``request.runnable`` on the cluster of ``request.cluster_path``.

    Returns
    -------
    int or None
        0 once the run started; ``None`` when the file describes no cluster of ours.

    Raises
    ------
    ClusterError
        A run of the same name is in progress (without ``force``), or the bring-up failed.

    """
    from flambe.cluster.cluster import run_name

    cluster = load_cluster(request.cluster_path, request.secrets)
    if cluster is None:
        return None
    runnable = request.runnable
    name = run_name(runnable)
    print(f"Bringing up the cluster {cluster.name} (reused when it is up already)...", flush=True)
    cluster.run(force=False)
    running = cluster.existing_flambe_execution(name)
    if running is not None:
        if not request.force:
            raise ClusterError(
                f"{name} is already running on {cluster.name} (pid {running})",
                hint=f"follow it with: flambe cluster logs {cluster.name} "
                f"{name}; or replace it with --force",
            )
        cluster.shutdown_flambe_execution(name)
    extensions = upload_extensions(
        cluster, dict(request.extensions or {}), os.path.dirname(request.config_path)
    )
    secrets = cluster.send_secrets() if request.secrets else None
    runnable.setup_inject_env(cluster=cluster, extensions=extensions, force=request.force)
    status = cluster.execute(runnable, extensions, secrets, request.force)
    orch = cluster.orchestrator
    output = getattr(runnable, "output_path", None)
    print(
        f"\n{name} runs on {cluster.name}: orchestrator {orch.name} ({orch.address}), "
        f"trials on {len(cluster.factories)} factories.\n"
        f"  follow it:      flambe cluster logs {cluster.name} {name} -f\n"
        f"  see the report: flambe cluster site {cluster.name} {name}\n"
        f"  fetch results:  flambe cluster fetch {cluster.name} {name}"
        + (f"   (from {output})" if output else "")
        + "\n"
        f"  stop the hosts: flambe cluster down {cluster.name}",
        flush=True,
    )
    return status
