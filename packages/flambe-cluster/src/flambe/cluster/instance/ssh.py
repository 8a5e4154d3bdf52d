"""SSH connections with pinned host keys and key-only authentication.

A host's key is recorded in the cluster's ``known_hosts`` on first contact; a host that later
presents another key is refused (:class:`HostKeyChangedError`), never silently accepted. The
user's key authenticates; no agent and no other key is tried, and the key never leaves this
machine. The same ``known_hosts`` serves the ``ssh`` and ``rsync`` programs started for
interactive shells, port forwards and folder transfers.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from flambe.cluster.instance.errors import HostKeyChangedError, MissingAuthError, SSHConnectingError

_PIN_LOCK = threading.Lock()


def _policy(known_hosts: Path) -> Any:
    import paramiko

    class PinOnFirstContact(paramiko.MissingHostKeyPolicy):
        """Record an unknown host's key in ``known_hosts`` (a changed key never gets here)."""

        def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
            with _PIN_LOCK:
                known_hosts.parent.mkdir(parents=True, exist_ok=True)
                with open(known_hosts, "a", encoding="utf-8") as handle:
                    handle.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")
                os.chmod(known_hosts, 0o600)
            client.get_host_keys().add(hostname, key.get_name(), key)

    return PinOnFirstContact()


def check_key(key: str) -> str:
    """The absolute path of the user's private key.

    Raises
    ------
    MissingAuthError
        The file does not exist or cannot be read.

    """
    path = os.path.abspath(os.path.expanduser(key))
    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        raise MissingAuthError(
            f"the SSH key {path} does not exist or cannot be read",
            hint="set 'key:' in the cluster config to your private key, e.g. ~/.ssh/id_ed25519",
        )
    return path


def connect(
    address: str, port: int, username: str, key: str, known_hosts: Path, timeout: float
) -> Any:
    """An open ``paramiko.SSHClient`` to ``username@address:port``.

    Raises
    ------
    HostKeyChangedError
        The host's key differs from the one pinned in ``known_hosts``.
    SSHConnectingError
        The host cannot be reached, or refuses the key.

    """
    import paramiko

    client = paramiko.SSHClient()
    if known_hosts.is_file():
        client.load_host_keys(str(known_hosts))
    client.set_missing_host_key_policy(_policy(known_hosts))
    try:
        client.connect(
            address,
            port=port,
            username=username,
            key_filename=check_key(key),
            look_for_keys=False,
            allow_agent=False,
            timeout=timeout,
            banner_timeout=timeout,
            auth_timeout=timeout,
        )
    except paramiko.BadHostKeyException as exc:
        client.close()
        raise HostKeyChangedError(
            f"the host key of {address} changed: it presented a {exc.key.get_name()} key with "
            f"fingerprint {exc.key.fingerprint}, not the one pinned on first contact "
            f"({exc.expected_key.fingerprint}); refusing to connect",
            hint=f"if the host was really reinstalled, remove its line from {known_hosts} "
            "and run again; otherwise someone may be impersonating it",
        ) from exc
    except paramiko.AuthenticationException as exc:
        client.close()
        raise SSHConnectingError(
            f"{username}@{address} refused the key {key}: {exc}",
            hint="add the public key to ~/.ssh/authorized_keys of that user on the host",
        ) from exc
    except (paramiko.SSHException, OSError) as exc:
        client.close()
        raise SSHConnectingError(
            f"cannot connect to {username}@{address}:{port}: {exc}",
            hint="check that the host is up and its SSH port is open",
        ) from exc
    transport = client.get_transport()
    if transport is not None:
        transport.set_keepalive(15)
    return client


def ssh_options(key: str, known_hosts: Path, port: int = 22, timeout: int = 20) -> list[str]:
    """Options of the ``ssh`` program: the user's key only, the pinned host keys only."""
    return [
        "-i",
        check_key(key),
        "-p",
        str(port),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "IdentityAgent=none",
        "-o",
        "BatchMode=yes",
        "-o",
        f"UserKnownHostsFile={known_hosts}",
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        f"ConnectTimeout={timeout}",
        "-o",
        "ServerAliveInterval=15",
        "-o",
        "LogLevel=ERROR",
    ]


def ssh_program(
    key: str, known_hosts: Path, port: int = 22, interactive: bool = False
) -> list[str]:
    """The ``ssh`` command line (without the destination)."""
    options = ssh_options(key, known_hosts, port)
    if interactive:
        index = options.index("BatchMode=yes")
        options[index] = "BatchMode=no"
    return ["ssh", *options]


def known_hosts_lines(known_hosts: Path, address: str) -> list[str]:
    """The pinned lines of ``address`` (empty when it was never contacted)."""
    if not known_hosts.is_file():
        return []
    return [
        line
        for line in known_hosts.read_text().splitlines()
        if line.split(" ", 1)[0].split(",")[0] in (address, f"[{address}]")
        or line.split(" ", 1)[0].startswith(f"[{address}]:")
    ]


def get_optional(value: str | None) -> str | None:
    """``None`` for empty strings."""
    return value or None
