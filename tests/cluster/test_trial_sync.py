"""Trial folders between hosts that share no file system (flambe.experiment.trial_sync).

A "factory" host pushes a variant folder (a committed, versioned checkpoint) to the
orchestrator's path and another host pulls it back, with real rsync over the hosts' sshd;
Tune's storage over SFTP is written and read back; a wrong host key is refused by both.
The hosts see only their own folders (``private_files``), so every copy here is a real one.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from flambe.errors import FlambeError
from flambe.experiment.trial_sync import TrialSync, pull_lineage

pytestmark = pytest.mark.cluster


def known_hosts_line(host: Any) -> str:
    """The known-hosts line of a namespace host's key, at its address."""
    kind, key = host.host_key.with_suffix(".pub").read_text().split()[:2]
    return f"{host.address} {kind} {key}\n"


def run_on(host: Any, code: str) -> str:
    """Run Python (the test environment's) inside ``host``; returns what it printed."""
    done = subprocess.run(
        [*host.nsenter(), sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture
def sync(network: Any, user_key: Path, tmp_path: Path) -> TrialSync:
    known = tmp_path / "known_hosts"
    known.write_text(known_hosts_line(network.hosts["orch"]))
    return TrialSync(
        host=network.hosts["orch"].address,
        user="root",
        key=str(user_key),
        known_hosts=str(known),
        marker=str(tmp_path / "no-such-marker"),
    )


def test_push_then_pull_on_another_host(network: Any, sync: TrialSync, tmp_path: Path) -> None:
    orch, factory1, factory2 = (network.hosts[n] for n in ("orch", "factory1", "factory2"))
    variant = orch.home / f"runs-{tmp_path.name}" / "train" / "lr=0.1"
    # factory1 trains two steps on its own disk (a versioned checkpoint, as trials write it)
    # and pushes after each; the orchestrator's copy follows, older versions removed
    run_on(
        factory1,
        f"""
        import os, pickle
        from flambe.experiment.trial_sync import TrialSync
        sync = pickle.loads({pickle_of(sync)!r})
        variant = {str(variant)!r}
        sync.pull(variant)  # a first attempt: nothing there yet, nothing copied
        assert not os.path.exists(variant)
        for step in (1, 2):
            version = os.path.join(variant, "checkpoints", f"step-{{step}}")
            os.makedirs(version)
            open(os.path.join(version, "trial.json"), "w").write('{{"step": %d}}' % step)
            if os.path.lexists(os.path.join(variant, "checkpoint")):
                os.remove(os.path.join(variant, "checkpoint"))
            os.symlink(os.path.join("checkpoints", f"step-{{step}}"),
                       os.path.join(variant, "checkpoint"))
            if step == 2:
                import shutil
                shutil.rmtree(os.path.join(variant, "checkpoints", "step-1"))
            open(os.path.join(variant, "trial.json"), "w").write('{{"step": %d}}' % step)
            assert sync.needed()
            sync.push(variant)
        """,
    )
    # the test process sees every host's real files: the orchestrator has the pushed copy
    assert json.loads((variant / "checkpoint" / "trial.json").read_text()) == {"step": 2}
    assert sorted(p.name for p in (variant / "checkpoints").iterdir()) == ["step-2"]
    # factory2 never saw it: it pulls the folder (and an upstream variant's) before running
    upstream = orch.home / f"runs-{tmp_path.name}" / "data" / "only"
    (upstream / "checkpoint").mkdir(parents=True)
    (upstream / "checkpoint" / "state.pt").write_text("weights")
    out = run_on(
        factory2,
        f"""
        import os, pickle
        from flambe.experiment.trial_sync import pull_lineage
        sync = pickle.loads({pickle_of(sync)!r})
        variant = {str(variant)!r}
        print(os.path.exists(variant))
        print(pull_lineage(sync, variant, {{"data": {str(upstream / "checkpoint")!r}}}))
        print(open(os.path.join(variant, "checkpoint", "trial.json")).read())
        print(open({str(upstream / "checkpoint" / "state.pt")!r}).read())
        """,
    )
    assert out.split() == ["False", "True", '{"step":', "2}", "weights"]


def test_nothing_is_copied_where_the_folder_is_seen(sync: TrialSync, tmp_path: Path) -> None:
    marker = tmp_path / ".flambe-origin-x"
    marker.write_text("")
    here = TrialSync(sync.host, sync.user, sync.key, sync.port, sync.known_hosts, str(marker))
    assert not here.needed()
    assert pull_lineage(here, str(tmp_path / "v"), {}) is False
    assert not (tmp_path / "v").exists()


def test_a_wrong_host_key_is_refused(network: Any, sync: TrialSync, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong_known_hosts"
    wrong.write_text(
        known_hosts_line(network.hosts["factory1"]).replace(
            network.hosts["factory1"].address, network.hosts["orch"].address
        )
    )
    bad = TrialSync(sync.host, sync.user, sync.key, sync.port, str(wrong), sync.marker)
    folder = tmp_path / "v"
    folder.mkdir()
    with pytest.raises(FlambeError, match="rsync exit code") as caught:
        bad.push(str(folder))
    assert sync.host in str(caught.value)
    import paramiko

    with pytest.raises(paramiko.SSHException):
        bad.tune_filesystem().create_dir(str(tmp_path / "tune"))


def test_tune_storage_over_sftp(network: Any, sync: TrialSync, tmp_path: Path) -> None:
    fs = sync.tune_filesystem()
    target = network.hosts["orch"].home / f"tune-{tmp_path.name}"
    fs.create_dir(str(target / "exp"))
    with fs.open_output_stream(str(target / "exp" / "state.json")) as handle:
        handle.write(b'{"trials": 4}')
    assert (target / "exp" / "state.json").read_text() == '{"trials": 4}'
    with fs.open_input_stream(str(target / "exp" / "state.json")) as handle:
        assert handle.read() == b'{"trials": 4}'
    import pickle

    again = pickle.loads(pickle.dumps(fs))  # sent to every trial
    assert again.get_file_info(str(target / "exp" / "state.json")).size == 13
    # Tune uploads a checkpoint with pyarrow's threaded copy, from threads that are not
    # Python's: one connection shared by them must not stall
    import pyarrow.fs as pafs

    local = tmp_path / "checkpoint"
    local.mkdir()
    for i in range(24):
        (local / f"part-{i}.bin").write_bytes(bytes([i]) * (1000 + i))
    fs.create_dir(str(target / "exp" / "checkpoint_000001"))  # as Tune does first
    copy = threading.Thread(
        target=pafs.copy_files,
        args=(str(local), str(target / "exp" / "checkpoint_000001")),
        kwargs={"destination_filesystem": fs, "use_threads": True},
        daemon=True,
    )
    copy.start()
    copy.join(timeout=60)  # a stall blocks in C code, where pytest's timeout cannot interrupt
    assert not copy.is_alive(), "the threaded copy over SFTP stalled"
    copied = target / "exp" / "checkpoint_000001"
    assert sorted(p.name for p in copied.iterdir()) == sorted(p.name for p in local.iterdir())
    assert (copied / "part-23.bin").read_bytes() == bytes([23]) * 1023


def test_environment_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLAMBE_TRIAL_SYNC", raising=False)
    assert TrialSync.from_environment(str(tmp_path / "tune")) is None
    monkeypatch.setenv("FLAMBE_TRIAL_SYNC", '{"host": "10.0.0.1", "user": "u"}')
    with pytest.raises(FlambeError, match="FLAMBE_TRIAL_SYNC is not valid.*'key'"):
        TrialSync.from_environment(str(tmp_path / "tune"))
    monkeypatch.setenv("FLAMBE_TRIAL_SYNC", '{"host": "10.0.0.1", "user": "u", "key": "~/k"}')
    sync = TrialSync.from_environment(str(tmp_path / "tune"))
    assert sync is not None and sync.port == 22 and sync.key == "~/k"
    assert Path(sync.marker).parent == tmp_path / "tune" and not sync.needed()


def pickle_of(value: Any) -> bytes:
    import pickle

    return pickle.dumps(value)
