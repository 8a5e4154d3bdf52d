"""Hosts of a cluster: commands over SSH, files over rsync, Flambé and Ray on each host.

Every command runs in a fresh login-less shell from the user's home, with the host's Flambé
environment (``~/.flambe/env``) first on ``PATH`` and Ray's token authentication turned on.
:meth:`Instance.run` raises :class:`RemoteCommandError` naming host, command, exit code and
the end of stderr; :meth:`Instance._run_cmd` returns a :data:`RemoteCommand` instead.
"""

from __future__ import annotations

import configparser
import logging
import os
import shlex
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flambe.cluster import const
from flambe.cluster.instance import ssh
from flambe.cluster.instance.errors import (
    RemoteCommandError,
    RemoteFileTransferError,
    SSHConnectingError,
)
from flambe.cluster.utils import RemoteCommand, quote_all, tail

logger = logging.getLogger(__name__)
# paramiko logs every SFTP session at INFO: keep only its warnings
logging.getLogger("paramiko").setLevel(logging.WARNING)

#: what every remote command starts with: the Flambé environment and Ray's token
#: the Ray and Flambé command lines of the host's environment (no PATH lookup needed)
PYTHON = f"$HOME/{const.REMOTE_ENV}/bin/python"
RAY = f"{PYTHON} -m ray.scripts.scripts"
FLAMBE = f"{PYTHON} -m flambe.cli"

ENV_PREFIX = (
    f'cd "$HOME" && export PATH="$HOME/{const.REMOTE_ENV}/bin:$HOME/.local/bin:$PATH" '
    f'RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH="$HOME/{const.RAY_TOKEN}" '
    "RAY_USAGE_STATS_ENABLED=0 && "
)


class Instance:
    """One host of a cluster, reached over SSH with the user's key.

    Parameters
    ----------
    host : str
        The address this machine reaches the host at (public address).
    private_host : str
        The address the other hosts reach it at (defaults to ``host``).
    username : str
        The user on the host.
    key : str
        The user's private key on this machine (never uploaded).
    config : ConfigParser, optional
        The secrets (``[PIP]`` options are honoured when installing).
    debug : bool
        Kept for the original signature.
    use_public : bool
        Connect to ``host`` (True) or to ``private_host`` (False).
    known_hosts : Path, optional
        Where host keys are pinned (the cluster's state folder).
    port : int
        The SSH port.
    name : str, optional
        A name for messages (``<cluster>_orchestrator``).

    """

    def __init__(
        self,
        host: str,
        private_host: str | None,
        username: str,
        key: str,
        config: configparser.ConfigParser | None = None,
        debug: bool = False,
        use_public: bool = True,
        known_hosts: Path | None = None,
        port: int = 22,
        name: str | None = None,
    ) -> None:
        self.host = host
        self.private_host = private_host or host
        self.username = username
        self.key = os.path.abspath(os.path.expanduser(key))
        self.config = config if config is not None else configparser.ConfigParser()
        self.debug = debug
        self.use_public = use_public
        self.port = port
        self.name = name or self.host
        if known_hosts is None:
            from flambe.utils.paths import flambe_home

            known_hosts = flambe_home() / "known_hosts"
        self.known_hosts = Path(known_hosts)
        self._cli: Any = None
        self._lock = threading.Lock()
        self._home: str | None = None
        self.extra_pip_args: list[str] = []

    # -- pickling: the SSH client stays behind ---------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_cli"] = None
        state["_lock"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.username}@{self.address}, private={self.private_host})"

    def __enter__(self) -> Instance:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def address(self) -> str:
        """The address this machine connects to."""
        return self.host if self.use_public else self.private_host

    @property
    def destination(self) -> str:
        """``user@address`` for ssh and rsync."""
        return f"{self.username}@{self.address}"

    # -- connectivity ----------------------------------------------------------------------
    def is_up(self, timeout: float = 2.0) -> bool:
        """Whether the SSH port accepts TCP connections."""
        try:
            with socket.create_connection((self.address, self.port), timeout=timeout):
                return True
        except OSError:
            return False

    def wait_until_accessible(
        self, retries: int = const.RETRIES, delay: float = const.RETRY_DELAY
    ) -> None:
        """Wait until the host accepts SSH connections.

        Raises
        ------
        ConnectionError
            The SSH port did not open after ``retries + 1`` polls ``delay`` seconds apart.

        """
        for attempt in range(retries + 1):
            if self.is_up():
                return
            if attempt < retries:
                time.sleep(delay)
        raise ConnectionError(
            f"host {self.name} ({self.address}:{self.port}) is unreachable: "
            f"its SSH port did not open in {retries + 1} tries"
        )

    def _get_cli(self) -> Any:
        """The cached SSH client, (re)connected when needed."""
        with self._lock:
            transport = self._cli.get_transport() if self._cli is not None else None
            if transport is None or not transport.is_active():
                self._cli = ssh.connect(
                    self.address,
                    self.port,
                    self.username,
                    self.key,
                    self.known_hosts,
                    const.SOCKET_TIMEOUT,
                )
            return self._cli

    def close(self) -> None:
        """Close the SSH connection (a later command opens a new one)."""
        if self._cli is not None:
            self._cli.close()
            self._cli = None

    # -- commands --------------------------------------------------------------------------
    def _exec(self, command: str, timeout: float | None) -> tuple[int, bytes, bytes]:
        client = self._get_cli()
        channel = client.get_transport().open_session()
        channel.settimeout(const.SOCKET_TIMEOUT)
        channel.exec_command(ENV_PREFIX + command)
        out: list[bytes] = []
        err: list[bytes] = []
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            busy = False
            while channel.recv_ready():
                out.append(channel.recv(65536))
                busy = True
            while channel.recv_stderr_ready():
                err.append(channel.recv_stderr(65536))
                busy = True
            if (
                channel.exit_status_ready()
                and not channel.recv_ready()
                and not channel.recv_stderr_ready()
            ):
                break
            if deadline is not None and time.monotonic() > deadline:
                channel.close()
                return (
                    124,
                    b"".join(out),
                    b"".join(err) + f"\n(timed out after {timeout:g} s)".encode(),
                )
            if not busy:
                time.sleep(0.01)
        return channel.recv_exit_status(), b"".join(out), b"".join(err)

    def _run_cmd(
        self, cmd: str, retries: int = 1, wd: str | None = None, timeout: float | None = None
    ) -> RemoteCommand:
        """Run ``cmd`` in a fresh shell, trying up to ``retries`` times while it fails.

        Returns
        -------
        RemoteCommand
            ``(True, stdout bytes)`` on success, else ``(False, stderr bytes)`` of the last try.

        Raises
        ------
        ValueError
            ``retries`` is not positive.
        SSHConnectingError
            The host cannot be reached.

        """
        result = self._run_full(cmd, retries, wd, timeout)
        return RemoteCommand(result[0] == 0, result[1] if result[0] == 0 else result[2])

    def _run_full(
        self, cmd: str, retries: int = 1, wd: str | None = None, timeout: float | None = None
    ) -> tuple[int, bytes, bytes]:
        if retries <= 0:
            raise ValueError(f"retries must be at least 1, got {retries}")
        command = f"cd {shlex.quote(wd)} && {cmd}" if wd else cmd
        last: tuple[int, bytes, bytes] = (-1, b"", b"")
        for attempt in range(retries):
            try:
                last = self._exec(command, timeout)
            except SSHConnectingError:
                raise
            except Exception as exc:  # a broken connection: reconnect and retry
                self.close()
                last = (-1, b"", f"{type(exc).__name__}: {exc}".encode())
            if last[0] == 0:
                return last
            if attempt < retries - 1:
                time.sleep(const.RETRY_DELAY)
        return last

    def run(
        self,
        cmd: str,
        retries: int = 1,
        timeout: float | None = None,
        wd: str | None = None,
        what: str | None = None,
    ) -> str:
        """Run ``cmd`` and return its decoded stdout.

        Raises
        ------
        RemoteCommandError
            It failed every try: the error names host, command, exit code and stderr's end.

        """
        code, out, err = self._run_full(cmd, retries, wd, timeout)
        if code != 0:
            raise RemoteCommandError(
                f"{what or 'a command'} failed on {self.name}",
                host=f"{self.name} ({self.address})",
                command=cmd,
                exit_code=code,
                stderr=tail(err or out),
            )
        return out.decode("utf-8", errors="replace")

    def run_cmds(self, cmds: Sequence[str], retries: int = 3, timeout: float | None = None) -> None:
        """Run commands one after the other (each tried ``retries`` times); stop at a failure."""
        for cmd in cmds:
            self.run(cmd, retries=retries, timeout=timeout, what="a setup command")

    @contextmanager
    def _remote_script(self, host_fname: str, desc: str) -> Iterator[str]:
        """Upload a local script as ``<desc>_<uuid>.sh``, yield its remote path, delete it."""
        remote = f"{desc}_{uuid.uuid4().hex}.sh"
        sftp = self._get_cli().open_sftp()
        try:
            sftp.put(host_fname, remote)
            sftp.chmod(remote, 0o700)
            yield remote
        finally:
            try:
                sftp.remove(remote)
            finally:
                sftp.close()

    def _run_script(self, fname: str, desc: str) -> RemoteCommand:
        """Run a local shell script on the host."""
        with self._remote_script(fname, desc) as remote:
            return self._run_cmd(f"./{shlex.quote(remote)}")

    # -- files -----------------------------------------------------------------------------
    def get_home_path(self) -> str:
        """The user's home folder on the host."""
        if self._home is None:
            self._home = self.run('echo "$HOME"', retries=3, what="reading $HOME").strip()
        return self._home

    def absolute(self, path: str) -> str:
        """``path`` on the host, relative paths taken from the home folder."""
        return path if path.startswith("/") else f"{self.get_home_path()}/{path}"

    def put_text(self, path: str, text: str, mode: int = 0o600) -> str:
        """Write ``text`` to ``path`` (relative to the home folder) on the host."""
        home = self.get_home_path()
        full = path if os.path.isabs(path) else f"{home}/{path}"
        self.run(f"mkdir -p {shlex.quote(os.path.dirname(full))}", retries=3)
        sftp = self._get_cli().open_sftp()
        try:
            with sftp.open(full, "w") as handle:
                handle.write(text.encode("utf-8"))
            sftp.chmod(full, mode)
        except OSError as exc:
            raise RemoteFileTransferError(f"cannot write {full} on {self.name}: {exc}") from exc
        finally:
            sftp.close()
        return full

    def read_text(self, path: str) -> str | None:
        """The text of ``path`` on the host, or None when it does not exist."""
        result = self._run_cmd(f"cat {shlex.quote(path)}")
        return result.msg.decode("utf-8", errors="replace") if result.success else None

    def existing_dir(self, _dir: str) -> bool:
        """Whether the folder exists (relative paths start at the home folder)."""
        return self._run_cmd(f"test -d {shlex.quote(_dir)}").success

    def create_dirs(self, relative_dirs: Sequence[str]) -> None:
        """Create folders (relative to the home folder); existing ones are kept."""
        if relative_dirs:
            self.run("mkdir -p " + quote_all(relative_dirs), retries=3, what="creating folders")

    def remove_dir(self, _dir: str, content_only: bool = True) -> None:
        """Delete a folder, or only what it holds."""
        target = shlex.quote(_dir)
        cmd = (
            f"if [ -d {target} ]; then find {target} -mindepth 1 -delete; fi"
            if content_only
            else f"rm -rf {target}"
        )
        self.run(cmd, retries=3, what="removing a folder")

    def rsync_command(self) -> list[str]:
        """The ssh transport rsync uses, with the user's key and the pinned host keys."""
        return [
            "rsync",
            "-a",
            "-e",
            quote_all(ssh.ssh_program(self.key, self.known_hosts, self.port)),
        ]

    def send_rsync(self, host_path: str, remote_path: str, params: list[str] | None = None) -> None:
        """Copy a local file or folder to the host (a folder's contents, into ``remote_path``).

        Raises
        ------
        RemoteFileTransferError
            The local path does not exist, or rsync failed.

        """
        if not os.path.exists(host_path):
            raise RemoteFileTransferError(f"{host_path} does not exist locally")
        self._get_cli()  # pins the host key first, so that rsync's strict checking accepts it
        remote_path = self.absolute(remote_path)
        source = host_path.rstrip("/") + ("/" if os.path.isdir(host_path) else "")
        if os.path.isdir(host_path):
            self.create_dirs([remote_path])
        else:
            self.create_dirs([os.path.dirname(remote_path) or "."])
        self._rsync([*(params or []), source, f"{self.destination}:{remote_path}"])

    def get_rsync(self, remote_path: str, host_path: str, params: list[str] | None = None) -> None:
        """Copy a file or folder of the host to this machine (a folder's contents)."""
        remote_path = self.absolute(remote_path)
        os.makedirs(host_path, exist_ok=True)
        self._rsync(
            [
                *(params or []),
                f"{self.destination}:{remote_path.rstrip('/')}/",
                host_path.rstrip("/") + "/",
            ]
        )

    def _rsync(self, args: list[str]) -> None:
        cmd = [*self.rsync_command(), *args]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise RemoteFileTransferError(
                f"rsync with {self.name} ({self.address}) failed with exit code "
                f"{done.returncode}: {tail(done.stderr)}",
                hint="check the paths and that rsync is installed on the host",
            )

    # -- Flambé on the host ----------------------------------------------------------------
    @property
    def python(self) -> str:
        """The interpreter of the host's Flambé environment."""
        return PYTHON

    def pip_flags(self) -> list[str]:
        """``--trusted-host``/``--extra-index-url`` from the ``[PIP]`` secrets section."""
        flags: list[str] = []
        if self.config.has_section("PIP"):
            pip = self.config["PIP"]
            if pip.get("HOST"):
                flags += ["--trusted-host", pip["HOST"]]
            if pip.get("HOST_URL"):
                flags += ["--extra-index-url", pip["HOST_URL"]]
        return flags + list(getattr(self, "extra_pip_args", []))

    def ensure_environment(self, base_python: str, system_site_packages: bool) -> None:
        """Create the host's Flambé environment (a venv) when it does not exist."""
        env = f"$HOME/{const.REMOTE_ENV}"
        flag = " --system-site-packages" if system_site_packages else ""
        self.run(
            f'test -x "{env}/bin/python" || {base_python} -m venv{flag} "{env}"',
            retries=2,
            timeout=300,
            what="creating the Flambé environment",
        )

    def installed_versions(self) -> dict[str, str]:
        """Versions of the Flambé distributions in the host's environment."""
        script = (
            "import json, importlib.metadata as m; print(json.dumps({d.metadata['Name']."
            "lower(): d.version for d in m.distributions() if (d.metadata['Name'] or '')."
            "lower().startswith('flambe')}))"
        )
        result = self._run_cmd(f"{self.python} -c {shlex.quote(script)}")
        if not result.success:
            return {}
        import json

        try:
            return dict(json.loads(result.msg.decode().strip().splitlines()[-1]))
        except (ValueError, IndexError):
            return {}

    def install_packages(
        self,
        requirements: Sequence[str],
        wheels: Sequence[str] = (),
        timeout: float = 1800,
        options: Sequence[str] = (),
    ) -> None:
        """Pip install requirement strings and uploaded wheel files into the environment."""
        args = [*requirements, *wheels]
        if not args:
            return
        flags = quote_all([*self.pip_flags(), *options])
        self.run(
            f"{self.python} -m pip install --disable-pip-version-check -q {flags} "
            + " ".join(args),
            retries=3,
            timeout=timeout,
            what="installing Flambé",
        )

    def is_flambe_installed(self, version: bool = True) -> bool:
        """Whether ``flambe`` runs on the host (at the local version when ``version``)."""
        result = self._run_cmd(f"{FLAMBE} --version")
        if not result.success:
            return False
        if not version:
            return True
        import flambe

        return flambe.__version__ in result.msg.decode()

    def install_extensions(self, extensions: dict[str, str]) -> None:
        """Pip install each extension (a path on the host or a pip requirement)."""
        for name, location in extensions.items():
            self.run(
                f"{self.python} -m pip install --disable-pip-version-check -q "
                f"{quote_all(self.pip_flags())} {shlex.quote(location)}",
                retries=3,
                timeout=1800,
                what=f"installing the extension {name}",
            )

    def contains_gpu(self) -> bool:
        """Whether the host has a GPU (``nvidia-smi`` lists one)."""
        result = self._run_cmd("nvidia-smi -L 2>/dev/null | grep -c GPU")
        return result.success and int(result.msg.decode().strip() or 0) > 0

    def num_cpus(self) -> int:
        """The number of CPUs of the host."""
        return int(self.run("nproc", retries=3).strip())

    def num_gpus(self) -> int:
        """The number of GPUs of the host."""
        result = self._run_cmd("nvidia-smi -L 2>/dev/null | grep -c GPU")
        return int(result.msg.decode().strip() or 0) if result.success else 0

    # -- Ray -------------------------------------------------------------------------------
    def ray_temp_dir(self) -> str:
        """Ray's session folder on the host: one per user, home and address.

        Hosts sharing a disk keep theirs apart; the path stays short (Ray's socket paths are
        limited).
        """
        import hashlib

        digest = hashlib.sha1(f"{self.get_home_path()}:{self.private_host}".encode()).hexdigest()
        return f"/tmp/flambe-ray-{self.username}-{digest[:10]}"

    def _ray_pattern(self) -> str:
        """A ``pgrep -f`` pattern of this host's Ray processes.

        The shell running pgrep does not match it itself (``[f]lambe-ray-...``).
        """
        return shlex.quote(self.ray_temp_dir().replace("/flambe-ray-", "/[f]lambe-ray-") + "/")

    def is_node_running(self) -> bool:
        """Whether a Ray node started by Flambé (with this host's session folder) runs here."""
        return self._run_cmd(f"pgrep -f -- {self._ray_pattern()} >/dev/null").success

    def shutdown_node(self) -> None:
        """Stop this host's Ray processes.

        Only those of its session folder: never ``ray stop``, which would stop every Ray of the
        user on the machine.
        """
        pattern = self._ray_pattern()
        self._run_cmd(
            f'pids=$(pgrep -f -- {pattern}); [ -n "$pids" ] && kill $pids; '
            f"for i in $(seq 50); do pgrep -f -- {pattern} >/dev/null || exit 0; "
            f"sleep 0.2; done; pids=$(pgrep -f -- {pattern}); "
            f'[ -n "$pids" ] && kill -9 $pids; true',
            timeout=60,
        )


class CPUFactoryInstance(Instance):
    """A factory: a Ray worker where trials run."""

    def launch_node(
        self, head_address: str, num_cpus: int | None = None, num_gpus: int | None = None
    ) -> None:
        """Start a Ray worker joining the head at ``head_address`` (``ip:port``)."""
        tmp = self.ray_temp_dir()
        resources = ""
        if num_cpus is not None:
            resources += f" --num-cpus={int(num_cpus)}"
        if num_gpus is not None:
            resources += f" --num-gpus={int(num_gpus)}"
        self.run(
            f"mkdir -p {shlex.quote(tmp)} && {RAY} start --address={head_address} "
            f"--node-ip-address={self.private_host} --temp-dir={tmp} "
            f"--disable-usage-stats{resources}",
            retries=2,
            timeout=180,
            what="starting a Ray worker",
        )


class GPUFactoryInstance(CPUFactoryInstance):
    """A factory with GPUs: its Ray worker offers every GPU ``nvidia-smi`` lists."""

    def launch_node(
        self, head_address: str, num_cpus: int | None = None, num_gpus: int | None = None
    ) -> None:
        """Start a Ray worker joining ``head_address`` with the host's GPUs declared."""
        super().launch_node(
            head_address, num_cpus, self.num_gpus() if num_gpus is None else num_gpus
        )


class OrchestratorInstance(Instance):
    """The orchestrator: the Ray head (no trials run on it) and the remote Flambé process."""

    def launch_node(self, port: int = const.RAY_PORT) -> None:
        """Start the Ray head with 0 CPUs on ``port``."""
        tmp = self.ray_temp_dir()
        self.run(
            f"mkdir -p {shlex.quote(tmp)} && {RAY} start --head --port={port} "
            f"--node-ip-address={self.private_host} --num-cpus=0 --num-gpus=0 "
            f"--temp-dir={tmp} --include-dashboard=false --disable-usage-stats",
            retries=2,
            timeout=180,
            what="starting the Ray head",
        )

    def cluster_resources(self) -> list[dict[str, Any]]:
        """The alive Ray nodes: ``[{"ip", "cpus", "gpus", "hostname"}]``."""
        script = (
            "import json, ray; ray.init(address='auto', logging_level='ERROR', "
            "log_to_driver=False); print(json.dumps([{'ip': n['NodeManagerAddress'], "
            "'hostname': n.get('NodeManagerHostname'), "
            "'cpus': n['Resources'].get('CPU', 0), 'gpus': n['Resources'].get('GPU', 0)} "
            "for n in ray.nodes() if n['Alive']]))"
        )
        out = self.run(
            f"RAY_ADDRESS={self.private_host}:{const.RAY_PORT} {self.python} -c "
            f"{shlex.quote(script)}",
            retries=2,
            timeout=120,
            what="reading the Ray cluster's nodes",
        )
        import json

        return list(json.loads(out.strip().splitlines()[-1]))

    def worker_nodes(self) -> list[str]:
        """Addresses of the Ray nodes that offer CPUs or GPUs (the factories)."""
        return sorted({n["ip"] for n in self.cluster_resources() if n["cpus"] > 0 or n["gpus"] > 0})

    def rsync_folder(self, _from: str, _to: str, exclude: list[str] | None = None) -> None:
        """Rsync run on the orchestrator, with the cluster's key (``_to`` may be remote)."""
        excludes = " ".join(f"--exclude={shlex.quote(e)}" for e in exclude or [])
        self.run(
            f"rsync -a {excludes} -e 'ssh -i $HOME/{const.PRIVATE_KEY} -o IdentitiesOnly=yes "
            f"-o BatchMode=yes -o UserKnownHostsFile=$HOME/.flambe/cluster/known_hosts "
            f"-o StrictHostKeyChecking=yes' {shlex.quote(_from)} {shlex.quote(_to)}",
            retries=3,
            timeout=3600,
            what="copying a folder between hosts",
        )

    def run_folder(self, name: str) -> str:
        """The folder of experiment ``name`` on the orchestrator (relative to home)."""
        return f"{const.REMOTE_RUNS}/{name}"

    def running_pid(self, name: str) -> int | None:
        """The pid of experiment ``name``'s process when it is running."""
        folder = shlex.quote(self.run_folder(name))
        result = self._run_cmd(
            f'pid=$(cat {folder}/pid 2>/dev/null) && kill -0 "$pid" '
            f'2>/dev/null && [ "$(ps -o stat= -p "$pid" | cut -c1)" != Z ] '
            f'&& echo "$pid"'
        )
        return int(result.msg.decode().strip()) if result.success else None

    def launch_flambe(
        self,
        name: str,
        config_file: str,
        secrets_file: str | None,
        force: bool,
        ray_address: str,
        env: dict[str, str] | None = None,
    ) -> int:
        """Start ``flambe run`` on the orchestrator, detached from the SSH session.

        ``env`` is added to its environment. Its output goes to
        ``<run folder>/output.log``; returns its pid.
        """
        folder = self.run_folder(name)
        args = ["run", config_file]
        if secrets_file:
            args += ["--secrets", secrets_file]
        if force:
            args.append("--force")
        extra = "".join(f"{key}={shlex.quote(value)} " for key, value in (env or {}).items())
        cmd = (
            f"mkdir -p {shlex.quote(folder)} && cd {shlex.quote(folder)} && "
            # FLAMBE_RAY_SHIP=0: the hosts have this exact code installed, nothing to ship
            f"{{ RAY_ADDRESS={ray_address} FLAMBE_RAY_SHIP=0 {extra}"
            f"nohup setsid {FLAMBE} {quote_all(args)} "
            f"> output.log 2>&1 < /dev/null & echo $! > pid; }} && cat pid"
        )
        out = self.run(cmd, retries=1, timeout=60, what="starting the experiment")
        return int(out.strip().splitlines()[-1])

    def kill_flambe(self, name: str) -> bool:
        """Stop experiment ``name``'s process (and its children); whether one was running."""
        pid = self.running_pid(name)
        if pid is None:
            return False
        self._run_cmd(
            f"kill -TERM -- -{pid} 2>/dev/null || kill -TERM {pid}; "
            f"for i in $(seq 50); do kill -0 {pid} 2>/dev/null || exit 0; sleep 0.2; "
            f"done; kill -KILL -- -{pid} 2>/dev/null; true",
            timeout=30,
        )
        return True

    def launch_report_site(self, output_dir: str, port: int = const.REPORT_SITE_PORT) -> None:
        """Serve the report site of ``output_dir`` on the orchestrator's loopback only.

        A site started earlier on the same port (for another run) is stopped first. Reach it
        through an SSH port forward (``flambe cluster site``).
        """
        pidfile = f"{const.REMOTE_RUNS}/site-{port}.pid"
        self.run(
            f"mkdir -p {const.REMOTE_RUNS} && "
            f"(pid=$(cat {pidfile} 2>/dev/null) && kill $pid 2>/dev/null; sleep 0.5; true) "
            f"&& {{ nohup setsid {FLAMBE} site {shlex.quote(output_dir)} --host 127.0.0.1 "
            f"--port {port} > {const.REMOTE_RUNS}/site.log 2>&1 < /dev/null & "
            f"echo $! > {pidfile}; }}",
            timeout=30,
            what="starting the report site",
        )

    def is_report_site_running(self, port: int = const.REPORT_SITE_PORT) -> bool:
        """Whether the report site started by Flambé on ``port`` runs on the orchestrator."""
        pidfile = f"{const.REMOTE_RUNS}/site-{port}.pid"
        return self._run_cmd(f"kill -0 $(cat {pidfile} 2>/dev/null) 2>/dev/null").success
