"""Clusters for Flambé: SSH and AWS clusters, remote experiments and the ``s3://`` storage backend.

Part of the ``flambe-cluster`` distribution, which contributes this subpackage to
the ``flambe`` namespace. Importing it is cheap: the classes live in
submodules and are imported when a config or your code first uses them.

>>> from flambe.cluster import SSHCluster, AWSCluster
"""

from flambe.utils.lazy import lazy_attributes

__version__ = "0.2.0"

_LAZY = {
    "Cluster": "flambe.cluster.cluster",
    "SSHCluster": "flambe.cluster.ssh_cluster",
    "AWSCluster": "flambe.cluster.aws",
    "ClusterError": "flambe.cluster.errors",
    "ClusterConfigurationError": "flambe.cluster.errors",
    "S3Backend": "flambe.cluster.storage",
    "const": "flambe.cluster.const",
    "errors": "flambe.cluster.errors",
    "utils": "flambe.cluster.utils",
    "instance": "flambe.cluster.instance",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
