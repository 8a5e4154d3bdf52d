"""Clusters for Flambé: SSH and AWS clusters, remote experiments and the ``s3://`` storage backend.

Part of the ``flambe-cluster`` distribution, which contributes this subpackage to
the ``flambe`` namespace. Importing it is cheap: the classes live in
submodules and are imported when a config or your code first uses them.
"""

__version__ = "0.1.0"
