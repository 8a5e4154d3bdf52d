"""Errors of flambe-cluster."""

from __future__ import annotations

from flambe.errors import ConfigError, FlambeError


class ClusterError(FlambeError):
    """A cluster cannot be brought up, reached or used."""


class ClusterConfigurationError(ConfigError):
    """A cluster's configuration is invalid (a wrong option or combination of options)."""
