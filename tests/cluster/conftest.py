"""Fixtures of the cluster tests: SSH hosts in network namespaces, a user key, cluster configs.

The hosts are real: Debian's sshd in namespaces of their own (see :mod:`tests.cluster.netns`).
Each has its own home and sees no other host's (no shared file system), and its Flambé environment
(``~/.flambe/env``) is a virtual environment that sees the test environment's packages (torch,
Ray...) through a ``.pth`` line, made by the cluster's ``setup_cmds``; Flambé itself is
installed there from wheels built from the checkout, as on real hosts.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.netns import Network, in_own_network_namespace, missing_tools


def _require_hosts() -> None:
    missing = missing_tools()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(
                f"missing for the SSH hosts: {', '.join(missing)} (.ci/run installs "
                "openssh-server and rsync)"
            )
        pytest.skip(
            f"missing for the SSH hosts: {', '.join(missing)} "
            "(apt-get install openssh-server rsync)"
        )
    if not in_own_network_namespace():
        pytest.fail(
            "the cluster tests build hosts in network namespaces and must run inside a "
            "network namespace of their own: run them with scripts/test"
        )


@pytest.fixture(scope="session")
def user_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The user's private key (an ed25519 key made for the session)."""
    folder = tmp_path_factory.mktemp("user-key")
    key = folder / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key


@pytest.fixture(scope="session")
def network(user_key: Path) -> Iterator[Network]:
    """An orchestrator and two factories, each with its own sshd, for the whole session."""
    _require_hosts()
    root = Path(tempfile.mkdtemp(prefix="flambe-hosts-"))
    net = Network(root, private_files=True)  # no shared file system between the hosts
    try:
        for name in ("orch", "factory1", "factory2"):
            net.add_host(name).start_sshd((user_key.parent / "id_ed25519.pub").read_text())
        yield net
    finally:
        _kill_ray_of(net)
        net.close()
        subprocess.run(["rm", "-rf", str(root)], check=False)


def ray_temp_dir(host: Any) -> str:
    """The Ray session folder flambe-cluster gives ``host`` (see Instance.ray_temp_dir)."""
    import hashlib

    digest = hashlib.sha1(f"{host.home}:{host.address}".encode()).hexdigest()[:10]
    return f"/tmp/flambe-ray-root-{digest}"


def kill_processes_naming(marks: list[str]) -> None:
    """Stop (TERM, then KILL) the processes whose command line names one of ``marks``.

    sshd is spared: the hosts' own daemons are stopped by :meth:`Network.close`.
    """
    import signal
    import time

    mine = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if any(mark in cmd for mark in marks) and "sshd" not in cmd:
            mine.append(int(pid))
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in mine:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        time.sleep(1)


def _kill_ray_of(net: Network) -> None:
    """Stop the processes (Ray nodes, remote runs) the hosts started, by their pids."""
    kill_processes_naming([str(net.root)] + [ray_temp_dir(h) for h in net.hosts.values()])
    for host in net.hosts.values():
        subprocess.run(["rm", "-rf", ray_temp_dir(host)], check=False)


def base_python() -> str:
    """The interpreter the test environment was made from."""
    return os.path.join(
        sys.base_prefix, "bin", f"python{sys.version_info[0]}.{sys.version_info[1]}"
    )


def env_setup_cmds() -> list[str]:
    """Make ``~/.flambe/env`` a venv that also sees the test environment's packages."""
    site = sysconfig.get_paths()["purelib"]
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    return [
        f'test -x "$HOME/.flambe/env/bin/python" || {base_python()} -m venv --without-pip '
        f'"$HOME/.flambe/env"',
        f'echo {site} > "$HOME/.flambe/env/lib/{version}/site-packages/test-env.pth"',
    ]


def ssh_cluster_yaml(
    network: Network, key: Path, name: str, factories: int = 2, extra: str = ""
) -> str:
    """An ``!SSHCluster`` config over the namespace hosts.

    The hosts reach no package index: pip installs the wheels built here, and builds the
    extensions with the build backend the test environment has (no build isolation).
    """
    hosts = list(network.hosts.values())
    factories_ips = "\n".join(f"  - {h.address}" for h in hosts[1 : 1 + factories])
    setup = "\n".join(f"  - {cmd!r}" for cmd in env_setup_cmds())
    return (
        textwrap.dedent(f"""\
        !SSHCluster
        name: {name}
        orchestrator_ip: {hosts[0].address}
        factories_ips:
        """)
        + factories_ips
        + "\n"
        + textwrap.dedent(f"""\
        key: {key}
        username: root
        python: {base_python()}
        pip_args: [--no-index, --no-build-isolation]
        setup_cmds:
        """)
        + setup
        + "\n"
        + extra
    )


@pytest.fixture
def host_env() -> dict[str, str]:
    """Environment for ``flambe`` processes started by the tests."""
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)
    return env


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """A moto server process on loopback; yields its endpoint URL."""
    pytest.importorskip("moto.server", reason="moto[server] is not installed")
    import socket as _socket

    from tests.cluster.netns import _stop, wait_for_port

    with _socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = open(tempfile.mktemp(prefix="moto-", suffix=".log"), "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_port("127.0.0.1", port, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)
        log.close()


@pytest.fixture
def aws_env(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """boto3 pointed at the moto server, with made-up credentials."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_server,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    return moto_server
