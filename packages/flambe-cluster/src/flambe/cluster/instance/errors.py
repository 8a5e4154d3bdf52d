"""Errors of the hosts of a cluster."""

from __future__ import annotations

from flambe.cluster.errors import ClusterError


class RemoteCommandError(ClusterError):
    """A command failed on a host.

    The message names the host, the command, its exit code and the end of its stderr.
    """

    def __init__(
        self,
        message: str,
        host: str | None = None,
        command: str | None = None,
        exit_code: int | None = None,
        stderr: str = "",
        hint: str | None = None,
    ) -> None:
        self.host = host
        self.command = command
        self.exit_code = exit_code
        self.stderr = stderr
        if host is not None and command is not None:
            message = f"{message}\n  host: {host}\n  command: {command}\n  exit code: {exit_code}"
            if stderr:
                message += "\n  stderr (end):\n    " + stderr.replace("\n", "\n    ")
        super().__init__(message, hint=hint)


class SSHConnectingError(ClusterError):
    """A host cannot be reached or refuses the connection (including a changed host key)."""


class HostKeyChangedError(SSHConnectingError):
    """A host presented a key other than the one pinned on first contact."""


class MissingAuthError(ClusterError):
    """The key to authenticate with is missing or unreadable."""


class RemoteFileTransferError(ClusterError):
    """Uploading or downloading files to or from a host failed."""
