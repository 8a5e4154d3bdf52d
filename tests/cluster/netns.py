"""Hosts for the cluster tests: network namespaces joined by a bridge, each with its own sshd.

The test process must already run in a network namespace of its own (``scripts/test`` makes
one that has only loopback). Inside it this module creates a bridge with a private /24, and
one namespace per host (``unshare --net --uts --mount``: own network stack, host name and
mounts) attached to
the bridge by a veth pair. Each host runs Debian's ``sshd`` on its private address, with its
own host key, key-only authentication and its own home folder (``HOME`` is set per host by
sshd). Each host also has its own mount namespace; with ``private_files`` every host's folder
is covered, in the other hosts, by an empty file system of their own, so a host sees only its
own home (and the rest of this machine's files, such as the test environment): files written
at another host's path land on the writer's own disk, as on machines without NFS. Clients
started by the tests run in the test's namespace, which reaches the hosts through the bridge;
nothing here can reach any other network.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

SSHD = "/usr/sbin/sshd"


def in_own_network_namespace() -> bool:
    """Whether this process runs in an isolated network namespace.

    It must differ from PID 1's (when that can be read) and hold no network interface but
    loopback and the bridges and veths of this module, so that nothing started here can reach
    a network outside the test's own.
    """
    try:
        if os.stat("/proc/self/ns/net").st_ino == os.stat("/proc/1/ns/net").st_ino:
            return False
    except OSError:
        pass  # PID 1's namespace cannot be read here: the interfaces decide
    try:
        names = [
            line.split(":")[1].strip().split("@")[0]
            for line in _run("ip", "-o", "link", "show").splitlines()
            if ":" in line
        ]
    except (RuntimeError, FileNotFoundError, IndexError):
        return False
    return all(name == "lo" or name.startswith(("fb", "fv")) for name in names)


def missing_tools() -> list[str]:
    """The programs the hosts need that are not installed."""
    needed = {
        "sshd": SSHD,
        "ip": shutil.which("ip"),
        "unshare": shutil.which("unshare"),
        "nsenter": shutil.which("nsenter"),
        "rsync": shutil.which("rsync"),
        "ssh-keygen": shutil.which("ssh-keygen"),
    }
    return [name for name, path in needed.items() if not path or not os.path.exists(path)]


def _run(*args: str) -> str:
    done = subprocess.run(list(args), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


@dataclass
class Host:
    """One host: a namespace holder process, its address, home and sshd."""

    name: str
    address: str
    root: Path
    holder: subprocess.Popen
    sshd: subprocess.Popen | None = None
    extra: list[subprocess.Popen] = field(default_factory=list)

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def host_key(self) -> Path:
        return self.root / "etc" / "ssh_host_ed25519_key"

    def nsenter(self) -> list[str]:
        """The command prefix that runs a program inside this host."""
        pid = self.holder.pid
        return [
            "nsenter",
            f"--net=/proc/{pid}/ns/net",
            f"--uts=/proc/{pid}/ns/uts",
            f"--mount=/proc/{pid}/ns/mnt",
            "--wd=/",
        ]

    def hide(self, folder: Path) -> None:
        """Cover ``folder`` with an empty file system of this host's own, as if on another disk."""
        self.run("mount", "-t", "tmpfs", "-o", "size=512m,mode=755", "tmpfs", str(folder))

    def run(self, *args: str) -> str:
        """Run a program inside this host (as root, not over SSH)."""
        return _run(*self.nsenter(), *args)

    def start_sshd(self, authorized_key: str) -> None:
        """Start (or restart) sshd, allowing ``authorized_key`` (a public key line)."""
        self.stop_sshd()
        etc = self.root / "etc"
        etc.mkdir(parents=True, exist_ok=True)
        ssh_dir = self.home / ".ssh"
        ssh_dir.mkdir(parents=True, exist_ok=True)
        auth = ssh_dir / "authorized_keys"
        existing = auth.read_text() if auth.exists() else ""
        if authorized_key.strip() not in existing:
            auth.write_text(existing + authorized_key.strip() + "\n")
        auth.chmod(0o600)
        if not self.host_key.exists():
            _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.host_key))
        config = etc / "sshd_config"
        config.write_text(
            textwrap.dedent(f"""\
            ListenAddress {self.address}
            Port 22
            HostKey {self.host_key}
            PidFile {etc / "sshd.pid"}
            AuthorizedKeysFile {auth}
            PubkeyAuthentication yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PermitRootLogin prohibit-password
            StrictModes no
            UsePAM no
            PrintMotd no
            AcceptEnv LANG LC_*
            SetEnv HOME={self.home} FLAMBE_TEST_HOST={self.name}
            Subsystem sftp internal-sftp
            LogLevel ERROR
            """)
        )
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)
        self.sshd = subprocess.Popen(
            [*self.nsenter(), SSHD, "-D", "-e", "-f", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=open(etc / "sshd.log", "ab"),
        )
        wait_for_port(self.address, 22, timeout=20.0)

    def stop_sshd(self) -> None:
        if self.sshd is not None:
            _stop(self.sshd)
            self.sshd = None

    def regenerate_host_key(self) -> None:
        """Give the host a new host key (as after a reinstall, or an impostor)."""
        for path in (self.host_key, self.host_key.with_suffix(".pub")):
            if path.exists():
                path.unlink()


def wait_for_port(address: str, port: int, timeout: float) -> None:
    """Wait until a TCP port accepts connections."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((address, port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _stop(proc: subprocess.Popen, timeout: float = 5.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Network:
    """A bridge in the test's namespace and hosts hanging off it.

    Parameters
    ----------
    root : Path
        Folder for the hosts' homes, keys and logs.
    subnet : str
        The first three octets of the /24 (``"10.231.7"``).
    tag : str, optional
        Short suffix of the bridge and veth names (default: from the pid); networks that
        live at the same time need different tags and subnets.

    """

    def __init__(
        self,
        root: Path,
        subnet: str = "10.231.7",
        tag: str | None = None,
        private_files: bool = False,
    ) -> None:
        if not in_own_network_namespace():
            raise RuntimeError(
                "refusing to build test hosts outside a network namespace of the "
                "test's own: run the tests with scripts/test"
            )
        self.root = root
        self.subnet = subnet
        self.private_files = private_files
        self.tag = tag or f"{os.getpid() % 100000}"
        self.bridge = f"fb{self.tag}"
        self.hosts: dict[str, Host] = {}
        _run("ip", "link", "add", self.bridge, "type", "bridge")
        _run("ip", "addr", "add", f"{subnet}.1/24", "dev", self.bridge)
        _run("ip", "link", "set", self.bridge, "up")

    @property
    def gateway(self) -> str:
        """The test process's own address on the bridge."""
        return f"{self.subnet}.1"

    def add_host(self, name: str) -> Host:
        """A new host namespace at the next address, with its host name set to ``name``."""
        index = len(self.hosts) + 2
        address = f"{self.subnet}.{index}"
        (self.root / name / "home").mkdir(parents=True, exist_ok=True)
        holder = subprocess.Popen(
            ["unshare", "--net", "--uts", "--mount", "--propagation", "private"]
            + ["sleep", "infinity"]
        )
        host = Host(name=name, address=address, root=self.root / name, holder=holder)
        deadline = time.monotonic() + 10
        while os.stat(f"/proc/{holder.pid}/ns/net").st_ino == os.stat("/proc/self/ns/net").st_ino:
            if time.monotonic() > deadline:
                raise RuntimeError("the host namespace did not appear")
            time.sleep(0.01)
        if self.private_files:  # each host's folder is on its own disk, seen by it alone
            for other in self.hosts.values():
                other.hide(host.root)
                host.hide(other.root)
        outer, inner = f"fv{self.tag}o{index}", f"fv{self.tag}i{index}"
        _run("ip", "link", "add", outer, "type", "veth", "peer", "name", inner)
        _run("ip", "link", "set", outer, "master", self.bridge)
        _run("ip", "link", "set", outer, "up")
        _run("ip", "link", "set", inner, "netns", str(holder.pid))
        host.run(
            "sh",
            "-c",
            f"ip link set lo up && ip link set {inner} name eth0 && "
            f"ip addr add {address}/24 dev eth0 && ip link set eth0 up && hostname {name}",
        )
        self.hosts[name] = host
        return host

    def close(self) -> None:
        """Stop every process started for the hosts and remove the bridge."""
        for host in self.hosts.values():
            for proc in host.extra:
                _stop(proc)
            host.stop_sshd()
            _stop(host.holder)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)
