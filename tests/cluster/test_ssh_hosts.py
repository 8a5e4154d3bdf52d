"""One SSH host at a time: commands, errors, pinned host keys, files (K10, K11)."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flambe.cluster.instance.errors import (
    HostKeyChangedError,
    RemoteCommandError,
    SSHConnectingError,
)
from flambe.cluster.instance.instance import Instance
from flambe.cluster.utils import RemoteCommand

pytestmark = pytest.mark.cluster


@pytest.fixture
def host(network: Any, user_key: Path, tmp_path: Path) -> Iterator[Instance]:
    factory = network.hosts["factory2"]
    instance = Instance(
        factory.address,
        None,
        "root",
        str(user_key),
        known_hosts=tmp_path / "known_hosts",
        name="factory2",
    )
    yield instance
    instance.close()


def test_commands_return_stdout_or_stderr(host: Instance, network: Any) -> None:
    ok = host._run_cmd("echo hello; echo ignored >&2")
    assert ok == RemoteCommand(True, b"hello\n")
    failed = host._run_cmd("echo out; echo broken >&2; exit 3")
    assert failed == RemoteCommand(False, b"broken\n")
    assert host.get_home_path() == str(network.hosts["factory2"].home)
    with pytest.raises(ValueError):
        host._run_cmd("ls", retries=0)
    # a fresh shell each time: nothing is kept between commands
    host._run_cmd("export KEPT=1; cd /")
    assert (
        host._run_cmd('echo "${KEPT:-none} $PWD"').msg.decode().strip()
        == f"none {host.get_home_path()}"
    )


def test_a_failed_command_names_host_command_exit_code_and_stderr(host: Instance) -> None:
    with pytest.raises(RemoteCommandError) as info:
        host.run_cmds(["true", "echo first line >&2; echo the reason >&2; exit 7"])
    text = str(info.value)
    assert "factory2" in text and host.address in text
    assert "exit 7" in text and "exit code: 7" in text and "the reason" in text
    assert info.value.exit_code == 7


def test_retries_run_the_command_again(host: Instance, tmp_path: Path) -> None:
    counter = host.get_home_path() + "/retry-count"
    host._run_cmd(f"rm -f {counter}")
    # fails twice, then succeeds
    cmd = f"echo x >> {counter}; [ $(wc -l < {counter}) -ge 3 ]"
    assert host._run_cmd(cmd, retries=3).success
    assert host.read_text(counter) == "x\nx\nx\n"


def test_timeouts_stop_a_command(host: Instance) -> None:
    result = host._run_cmd("sleep 20", timeout=1)
    assert not result.success and b"timed out" in result.msg


def test_instances_pickle_without_their_connection(host: Instance) -> None:
    host.get_home_path()
    copy = pickle.loads(pickle.dumps(host))
    assert copy._cli is None and copy._run_cmd("echo again").msg == b"again\n"


def test_files_go_both_ways(host: Instance, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "f.txt").write_text("content")
    host.send_rsync(str(folder), "sent/folder")
    assert host.existing_dir("sent/folder/sub")
    back = tmp_path / "back"
    host.get_rsync("sent/folder", str(back))
    assert (back / "sub" / "f.txt").read_text() == "content"
    host.remove_dir("sent", content_only=True)
    assert host.existing_dir("sent") and not host.existing_dir("sent/folder")
    host.remove_dir("sent", content_only=False)
    assert not host.existing_dir("sent")


def test_host_keys_are_pinned_and_a_changed_key_is_refused(
    network: Any, user_key: Path, tmp_path: Path
) -> None:
    impostor = network.hosts.get("rekeyed") or network.add_host("rekeyed")
    impostor.start_sshd((user_key.parent / "id_ed25519.pub").read_text())
    known = tmp_path / "known_hosts"
    first = Instance(impostor.address, None, "root", str(user_key), known_hosts=known)
    assert first._run_cmd("hostname").msg == b"rekeyed\n"
    first.close()
    public = (impostor.host_key.parent / (impostor.host_key.name + ".pub")).read_text().split()
    assert known.read_text() == f"{impostor.address} {public[0]} {public[1]}\n"
    # the host comes back with another key: refused, nothing is run, the pin is unchanged
    impostor.regenerate_host_key()
    impostor.start_sshd((user_key.parent / "id_ed25519.pub").read_text())
    again = Instance(impostor.address, None, "root", str(user_key), known_hosts=known)
    with pytest.raises(HostKeyChangedError) as info:
        again._run_cmd("touch /tmp/should-not-exist")
    assert impostor.address in str(info.value) and str(known) in str(info.value)
    assert known.read_text().count("\n") == 1
    # rsync and ssh use the same pins
    with pytest.raises(HostKeyChangedError):
        again.send_rsync(str(known), "copied")


def test_unreachable_host_and_refused_key(network: Any, user_key: Path, tmp_path: Path) -> None:
    silent = network.hosts.get("silent") or network.add_host("silent")  # no sshd
    instance = Instance(
        silent.address,
        None,
        "root",
        str(user_key),
        known_hosts=tmp_path / "known_hosts",
        name="silent",
    )
    with pytest.raises(ConnectionError, match="silent"):
        instance.wait_until_accessible(retries=1, delay=0.1)
    other_key = tmp_path / "other"
    import subprocess

    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other_key)], check=True
    )
    stranger = Instance(
        network.hosts["factory1"].address,
        None,
        "root",
        str(other_key),
        known_hosts=tmp_path / "known_hosts",
    )
    with pytest.raises(SSHConnectingError, match="refused the key"):
        stranger.get_home_path()
