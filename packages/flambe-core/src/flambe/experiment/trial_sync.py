"""Trial folders on hosts that do not share the experiment's file system.

A variant's folder lives in the experiment's output folder, on the machine
that runs the experiment (a cluster's orchestrator). When its trial runs on
another host (a factory) that does not see that folder (no NFS), the trial
keeps a copy of the folder at the same path on its own disk and
synchronises it over SSH, with rsync, using the cluster's own key:

- before the trial builds its stage, it **pulls** its variant folder (to
  continue from its last checkpoint when it is a retry) and the variant
  folders of the upstream checkpoints it loads;
- after every step it **pushes** its folder back, in two passes: first the
  new checkpoint version and everything else, then the ``checkpoint``
  pointer and ``trial.json`` (with ``--delete``, which removes the replaced
  version). A host lost in the middle of a push leaves the orchestrator's
  copy pointing at a complete checkpoint, the old or the new one (see
  :mod:`flambe.experiment.checkpoints`).

Ray Tune's own bookkeeping (its experiment state and per-trial checkpoint
records) goes to the orchestrator over SFTP through Tune's
``storage_filesystem``, so a trial retried on another host finds it.

Nothing is copied when the trial's host sees the experiment's folder: the
experiment writes a marker file with a random name into its Tune folder, and
a trial that finds it there works in place (the orchestrator itself, hosts
sharing an NFS mount).

The experiment process reads the configuration from the environment
variable ``FLAMBE_TRIAL_SYNC`` (JSON: ``host``, ``user``, ``key``, and
optionally ``port`` and ``known_hosts``; ``~`` in paths means the home
folder of the host that uses them). ``flambe run --cluster`` sets it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shlex
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from typing import Any

from flambe.errors import FlambeError

logger = logging.getLogger(__name__)

ENV = "FLAMBE_TRIAL_SYNC"
MARKER_PREFIX = ".flambe-origin-"
ATTEMPTS = 3

_POINTER_FILES = ("checkpoint", "trial.json")  # switched last (see the module docstring)


@dataclass(frozen=True)
class TrialSync:
    """Where a trial's folders are kept, and how to reach it (picklable; sent to trials).

    Parameters
    ----------
    host : str
        The address of the host holding the experiment's folder, as the
        trials' hosts reach it.
    user : str
        The user to log in as.
    key : str
        The private key to log in with (``~`` is the trial host's home).
    port : int
        The SSH port.
    known_hosts : str, optional
        A known-hosts file holding ``host``'s key; the connection is refused
        when the key differs. Without one, the key is not checked.
    marker : str
        A file only hosts that see the experiment's folder have.

    """

    host: str
    user: str
    key: str
    port: int = 22
    known_hosts: str | None = None
    marker: str = ""

    @classmethod
    def from_environment(cls, storage_path: str) -> TrialSync | None:
        """The configuration in ``FLAMBE_TRIAL_SYNC`` (None when unset), marking ``storage_path``.

        Raises
        ------
        FlambeError
            When the variable is not the JSON object described in the module.

        """
        text = os.environ.get(ENV, "").strip()
        if not text:
            return None
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            sync = cls(
                host=str(data["host"]),
                user=str(data["user"]),
                key=str(data["key"]),
                port=int(data.get("port", 22)),
                known_hosts=data.get("known_hosts"),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise FlambeError(
                f"{ENV} is not valid ({exc}): {text!r}",
                hint='set it to a JSON object like {"host": "10.0.0.1", "user": "ubuntu", '
                '"key": "~/.ssh/id_ed25519"}, or unset it when every host sees the output '
                "folder",
            ) from exc
        os.makedirs(storage_path, exist_ok=True)
        marker = os.path.join(os.path.abspath(storage_path), MARKER_PREFIX + uuid.uuid4().hex)
        with open(marker, "w", encoding="utf-8"):
            pass
        return cls(sync.host, sync.user, sync.key, sync.port, sync.known_hosts, marker)

    def needed(self) -> bool:
        """Whether this host works on its own copy (it does not see the experiment's folder)."""
        return not os.path.exists(self.marker)

    # -- rsync ----------------------------------------------------------------------------
    def _ssh_options(self) -> list[str]:
        options = [
            "-p",
            str(self.port),
            "-i",
            os.path.expanduser(self.key),
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=20",
            # one connection per host pair and run, reused by every copy of its trials there;
            # a connection whose peer vanished ends after 3 unanswered probes
            "-o",
            "ControlMaster=auto",
            "-o",
            f"ControlPath=/tmp/flambe-sync-{self._run_token()}-%C",
            "-o",
            "ControlPersist=120",
            "-o",
            "ServerAliveInterval=10",
            "-o",
            "ServerAliveCountMax=3",
        ]
        if self.known_hosts:
            options += [
                "-o",
                f"UserKnownHostsFile={os.path.expanduser(self.known_hosts)}",
                "-o",
                "StrictHostKeyChecking=yes",
            ]
        else:
            options += ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
        return options

    def _run_token(self) -> str:
        """A short name of this run (its marker's), so runs never share a connection."""
        return hashlib.sha1(self.marker.encode()).hexdigest()[:10]

    def _rsync(self, args: list[str], what: str) -> None:
        command = ["rsync", "-a", "-e", shlex.join(["ssh", *self._ssh_options()]), *args]
        for attempt in range(1, ATTEMPTS + 1):
            # stderr goes to a file, not a pipe: the SSH connection left open for the next
            # copy (ControlPersist) keeps the pipe open, and reading it to its end would wait
            with tempfile.TemporaryFile(mode="w+") as errors:
                code = subprocess.call(command, stdout=subprocess.DEVNULL, stderr=errors)
                errors.seek(0)
                stderr = errors.read()
            if code == 0:
                return
            if attempt < ATTEMPTS:
                time.sleep(attempt)
        tail = "\n".join(stderr.strip().splitlines()[-5:])
        raise FlambeError(
            f"{what} failed after {ATTEMPTS} attempts (rsync exit code {code}): "
            f"{shlex.join(command)}\n{tail}",
            hint=f"check that this host reaches {self.user}@{self.host}:{self.port} with "
            f"{self.key} (the cluster's key) and has rsync",
        )

    def _remote(self, path: str) -> str:
        return f"{self.user}@{self.host}:{path}"

    def pull(self, folder: str) -> None:
        """Make ``folder`` a copy of the experiment host's (nothing when it has none yet)."""
        folder = os.path.abspath(folder).rstrip("/")
        parent = os.path.dirname(folder)
        os.makedirs(parent, exist_ok=True)
        # a missing folder is nothing to copy; so is a missing parent (created empty there)
        self._rsync(
            [
                f"--rsync-path=mkdir -p {shlex.quote(parent)} && rsync",
                "--delete",
                "--ignore-missing-args",
                self._remote(folder),
                parent + "/",
            ],
            f"copying {folder} from {self.host}",
        )

    def push(self, folder: str) -> None:
        """Copy ``folder`` to the experiment host, the checkpoint pointer last."""
        folder = os.path.abspath(folder).rstrip("/")
        parent = os.path.dirname(folder)
        name = os.path.basename(folder)
        # the receiving side creates the parent folder first (rsync's --mkpath is too recent
        # for some hosts)
        remote_rsync = f"mkdir -p {shlex.quote(parent)} && rsync"
        target = self._remote(parent + "/")
        excludes = [f"--exclude=/{name}/{pointer}" for pointer in _POINTER_FILES]
        what = f"copying {folder} to {self.host}"
        self._rsync([f"--rsync-path={remote_rsync}", *excludes, folder, target], what)
        self._rsync([f"--rsync-path={remote_rsync}", "--delete", folder, target], what)

    # -- Tune's storage -------------------------------------------------------------------
    def tune_filesystem(self) -> Any:
        """The ``storage_filesystem`` for Ray Tune: SFTP to the experiment host."""
        from flambe.experiment.sftp_storage import sftp_filesystem

        return sftp_filesystem(
            host=self.host,
            port=self.port,
            user=self.user,
            key=self.key,
            known_hosts=self.known_hosts,
        )


def pull_lineage(sync: TrialSync | None, variant_dir: str, checkpoints: dict[str, str]) -> bool:
    """Pull a trial's variant folder and its upstream variants' when this host needs copies.

    Returns whether the host works on copies (its pushes are then needed too).
    """
    if sync is None or not sync.needed():
        return False
    for checkpoint in checkpoints.values():
        sync.pull(os.path.dirname(os.path.abspath(checkpoint).rstrip("/")))
    sync.pull(variant_dir)
    return True
