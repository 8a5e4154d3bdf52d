"""The plugin module of flambe-cluster, announced under the ``flambe.plugins`` entry point.

It declares its YAML tags (clusters and instances), the ``flambe cluster`` command, the
``s3://`` storage backend and the remote-execution hook, all as names mapped to import paths,
so that ``flambe --help`` imports neither torch, paramiko, boto3 nor this plugin's submodules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flambe.plugins import hookimpl
from flambe.plugins.types import LazyCommand

# YAML tag (without "!") -> "module:Class"
TAGS: dict[str, str] = {
    "SSHCluster": "flambe.cluster.ssh_cluster:SSHCluster",
    "AWSCluster": "flambe.cluster.aws:AWSCluster",
}


@hookimpl
def flambe_tags() -> Mapping[str, str]:
    """Tags provided by flambe-cluster."""
    return TAGS


@hookimpl
def flambe_cli_commands() -> Mapping[str, LazyCommand]:
    """``flambe cluster ...``."""
    return {
        "cluster": LazyCommand(
            "flambe.cluster.cli:cluster", "Show, follow, fetch from and tear down clusters."
        )
    }


@hookimpl
def flambe_storage_backends() -> Mapping[str, str]:
    """``s3://`` URLs."""
    return {"s3": "flambe.cluster.storage:S3Backend"}


@hookimpl
def flambe_run_on_cluster(request: Any) -> int | None:
    """``flambe run CONFIG --cluster cluster.yaml``."""
    from flambe.cluster.remote import submit

    return submit(request)
