"""An SSHCluster on real sshd hosts: bring-up, a remote experiment, the cluster commands.

Three hosts in network namespaces (orchestrator + 2 factories); the cluster is brought up once
for the module with ``flambe run cluster.yaml`` and reused by the later tests.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.conftest import ssh_cluster_yaml

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(900)]

REPO = Path(__file__).resolve().parents[2]
NAME = "ns-cluster"


def flambe(
    *args: str, env: dict[str, str], timeout: float = 600, check: bool = True, cwd: Any = None
) -> subprocess.CompletedProcess:
    """Run the ``flambe`` command line of the test environment."""
    done = subprocess.run(
        [sys.executable, "-m", "flambe.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        cwd=cwd,
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"flambe {' '.join(args)} exited {done.returncode}:\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
        )
    return done


@pytest.fixture(scope="module")
def cluster_file(network: Any, user_key: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cluster")
    path = folder / "cluster.yaml"
    path.write_text(ssh_cluster_yaml(network, user_key, NAME))
    return path


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)
    return env


@pytest.fixture(scope="module")
def brought_up(cluster_file: Path, env: dict[str, str], network: Any) -> Path:
    """``flambe run cluster.yaml``: the cluster is up (hosts, Flambé, Ray).

    factory2 has a GPU, as far as ``nvidia-smi`` there says (no GPU exists here: this one
    program stands in for the driver's; nothing else is faked).
    """
    fake = network.hosts["factory2"].home / ".local/bin/nvidia-smi"
    fake.parent.mkdir(parents=True, exist_ok=True)
    fake.write_text("#!/bin/sh\necho 'GPU 0: NVIDIA H200 (UUID: GPU-0000)'\n")
    fake.chmod(0o755)
    started = time.monotonic()
    flambe("run", str(cluster_file), env=env)
    print(f"bring-up took {time.monotonic() - started:.1f} s")
    return cluster_file


def test_bring_up_records_hosts_and_pins_keys(
    brought_up: Path, network: Any, env: dict[str, str]
) -> None:
    from flambe.cluster.state import ClusterState

    state = ClusterState(NAME)
    record = json.loads(state.hosts_file.read_text())
    hosts = [network.hosts[n] for n in ("orch", "factory1", "factory2")]
    assert record["orchestrator"]["host"] == hosts[0].address
    assert [f["host"] for f in record["factories"]] == [h.address for h in hosts[1:]]
    # the factory with a GPU was detected, and its Ray worker offers it
    assert [f["gpu"] for f in record["factories"]] == [False, True]
    status = flambe("cluster", "status", NAME, env=env).stdout
    assert re.search(r"ray: 3 nodes, [\d.]+ CPUs, 1 GPUs", status), status
    pinned = state.known_hosts.read_text()
    for host in hosts:  # each host's own key, recorded on first contact
        public = (host.host_key.parent / (host.host_key.name + ".pub")).read_text().split()[1]
        assert f"{host.address} ssh-ed25519 {public}" in pinned
    # the user's key is never uploaded; the cluster's own key pair is on every host
    user_private = (Path(record["key"])).read_text()
    for host in hosts:
        for path in host.home.rglob("*"):
            if path.is_file() and path.stat().st_size < 1_000_000:
                assert user_private not in path.read_text(errors="ignore"), path
        assert (
            host.home / ".flambe/cluster/ray_bootstrap_key.pem"
        ).read_text() == state.private_key.read_text()
    status = flambe("cluster", "status", NAME, env=env).stdout
    assert "3 nodes" in status and "4 CPUs" in status or "ray:" in status, status
    assert status.count("reachable") == 3


def test_factories_reach_each_other_with_the_cluster_key(brought_up: Path, network: Any) -> None:
    orch, f2 = network.hosts["orch"], network.hosts["factory2"]
    key = orch.home / ".flambe/cluster/ray_bootstrap_key.pem"
    known = orch.home / ".flambe/cluster/known_hosts"
    out = orch.run(
        "env",
        f"HOME={orch.home}",
        "ssh",
        "-i",
        str(key),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "BatchMode=yes",
        "-o",
        f"UserKnownHostsFile={known}",
        "-o",
        "StrictHostKeyChecking=yes",
        f"root@{f2.address}",
        "hostname",
    )
    assert out.strip() == "factory2"


def test_second_bring_up_reuses_the_live_cluster(
    brought_up: Path, env: dict[str, str], network: Any
) -> None:
    orch = network.hosts["orch"]
    before = _ray_pids(orch)
    assert before, "no Ray head found"
    started = time.monotonic()
    again = flambe("run", str(brought_up), env=env)
    print(f"second bring-up took {time.monotonic() - started:.1f} s:\n{again.stderr}")
    assert _ray_pids(orch) == before  # same Ray processes: reused, not restarted


def _loaded_cluster(cluster_file: Path, secrets: Any = None) -> Any:
    from flambe.cluster.remote import load_cluster

    cluster = load_cluster(str(cluster_file), secrets)
    cluster.load_all_instances()
    return cluster


def test_cluster_contract_on_the_live_cluster(
    brought_up: Path, network: Any, tmp_path: Path
) -> None:
    """K1, K2, K3, K7, K8, K16 of the spec, on the hosts of the live cluster."""
    from flambe.cluster.errors import ClusterError
    from flambe.cluster.ssh_cluster import SSHCluster

    named = SSHCluster("seq2seq-en-fr", "10.0.0.1", ["10.0.0.2"], "~/.ssh/k", "u")
    assert named.get_orchestrator_name() == "seq2seq-en-fr_orchestrator"
    assert named.get_factory_basename() == "seq2seq-en-fr_factory"
    with pytest.raises(ClusterError, match="Orchestrator instance was not loaded"):
        named.get_orch_home_path()
    with pytest.raises(ClusterError, match="Orchestrator instance was not loaded"):
        named.execute(None, {}, None, False)

    secrets = tmp_path / "secrets.ini"
    secrets.write_text("[AWS]\nKEY = a\n[SOME_SECTION]\nRANDOM = xyz\n")
    cluster = _loaded_cluster(brought_up, str(secrets))
    assert cluster.config["SOME_SECTION"]["RANDOM"] == "xyz"
    orch = network.hosts["orch"]
    path = cluster.send_secrets(whitelist=["AWS"])
    assert path == f"{orch.home}/secret.ini"
    assert (orch.home / "secret.ini").read_text().split() == ["[AWS]", "key", "=", "a"]
    env = cluster.get_remote_env()
    assert env.orchestrator_ip == orch.address
    assert env.factories_ips == [
        network.hosts["factory1"].address,
        network.hosts["factory2"].address,
    ]
    assert env.key.startswith(str(orch.home))
    with pytest.raises(ClusterError, match="a Ray node already runs"):
        cluster.launch_ray_cluster()
    assert cluster.check_ray_cluster()
    assert cluster.get_max_resources()["gpu"] == 0


def _ray_pids(host: Any) -> list[int]:
    """The pids of the Ray head (GCS server) started on ``host`` by the cluster."""
    import hashlib

    temp = (
        "flambe-ray-root-" + hashlib.sha1(f"{host.home}:{host.address}".encode()).hexdigest()[:10]
    )
    pids = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if "gcs_server" in cmd and temp in cmd:
                pids.append(int(pid))
    return sorted(pids)


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "State:\tZ" not in status


def _wait_for_run(orch: Any, name: str, timeout: float = 400) -> None:
    folder = orch.home / "flambe-runs" / name
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = int((folder / "pid").read_text()) if (folder / "pid").exists() else None
        if pid is not None and not _alive(pid):
            return
        time.sleep(1)
    raise AssertionError(
        f"{name} still runs after {timeout} s:\n" + (folder / "output.log").read_text()[-3000:]
    )


def test_remote_experiment_runs_on_both_factories(
    brought_up: Path, network: Any, env: dict[str, str], tmp_path: Path
) -> None:
    exp = tmp_path / "experiment.yaml"
    text = (REPO / "examples/cluster/experiment.yaml").read_text()
    exp.write_text(text.replace("../data/moons.csv", str(REPO / "examples/data/moons.csv")))
    submitted = flambe("run", str(exp), "--cluster", str(brought_up), env=env)
    assert "flambe cluster logs" in submitted.stdout and "fetch" in submitted.stdout
    orch = network.hosts["orch"]
    # a second submission while it runs is refused without --force
    again = flambe("run", str(exp), "--cluster", str(brought_up), env=env, check=False)
    if (orch.home / "flambe-runs/moons-cluster/pid").exists() and again.returncode != 0:
        assert "already running" in again.stdout + again.stderr
    _wait_for_run(orch, "moons-cluster")
    log = (orch.home / "flambe-runs/moons-cluster/output.log").read_text()
    assert "Done" in log, log[-3000:]
    # the resource was uploaded to every host, at the orchestrator's path; each host has its
    # own disk: a factory sees its copy of the resource, not the orchestrator's output folder,
    # so the variants it ran reached the orchestrator through the trials' own copies
    uploaded = orch.home / "resources/moons-cluster/moons__moons.csv"
    assert uploaded.read_text() == (REPO / "examples/data/moons.csv").read_text()
    for factory in ("factory1", "factory2"):
        host = network.hosts[factory]
        assert host.run("cat", str(uploaded)) == uploaded.read_text()
        progress_there = orch.home / "moons-cluster/output__moons-cluster/progress.json"
        assert progress_there.is_file()
        assert host.run("sh", "-c", f"test -e {progress_there} || echo absent") == "absent\n"
    assert str(uploaded) in (orch.home / "flambe-runs/moons-cluster/flambe.yaml").read_text()
    logs = flambe("cluster", "logs", NAME, "moons-cluster", env=env).stdout
    assert "Done" in logs

    target = tmp_path / "fetched"
    flambe("cluster", "fetch", NAME, "moons-cluster", "-o", str(target), env=env)
    out = target / "output__moons-cluster"
    progress = json.loads((out / "progress.json").read_text())
    for stage in ("train", "evaluate"):
        variants = progress["stages"][stage]["variants"].values()
        assert len(variants) == 4
        assert {v["status"] for v in variants} == {"success"}
        for variant in variants:
            assert (out / stage / variant["name"] / "checkpoint").is_dir(), variant["name"]
    hosts = {
        v.get("host")
        for s in ("train", "evaluate")
        for v in progress["stages"][s]["variants"].values()
    }
    assert hosts == {"factory1", "factory2"}, hosts
    assert (out / "experiment.yaml").is_file()
    # the same experiment run here: its stages' folders hold the same files (the copies the
    # factories pushed lost nothing and added nothing)
    local_run = tmp_path / "local"
    flambe("run", str(exp), f"+save_path={local_run}", env=env, cwd=str(tmp_path))
    local_out = local_run / "output__moons-cluster"
    for stage in ("dataset", "train", "evaluate"):
        assert _layout(out / stage) == _layout(local_out / stage), stage


def _layout(folder: Path) -> set[str]:
    """The files under ``folder``, with the names that hold a time, host or hash generalised."""
    names = set()
    for path in folder.rglob("*"):
        name = str(path.relative_to(folder))
        name = re.sub(r"events\.out\.tfevents\.[^/]+", "EVENTS", name)
        name = re.sub(r"step-\d+-[0-9a-f]+", "step-N", name)
        names.add(name)
    return names


def test_report_site_is_reached_through_an_ssh_forward_only(
    brought_up: Path, network: Any, env: dict[str, str]
) -> None:
    """``flambe cluster site``: the site binds the orchestrator's loopback; a forward reaches it."""
    import socket
    import urllib.request

    orch = network.hosts["orch"]
    if not (orch.home / "moons-cluster/output__moons-cluster/progress.json").exists():
        pytest.skip("needs the output of test_remote_experiment_runs_on_both_factories")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flambe.cli",
            "cluster",
            "site",
            NAME,
            "moons-cluster",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
                    body = page.read().decode()
                    break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "the forwarded site never answered"
                time.sleep(0.5)
        assert "moons-cluster" in body
        with pytest.raises(OSError):  # not exposed on the orchestrator's network address
            socket.create_connection((orch.address, 49558), timeout=3).close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_ray_address_runs_stages_on_an_existing_ray_cluster(
    brought_up: Path, network: Any, env: dict[str, str], tmp_path: Path
) -> None:
    """``flambe run --ray-address``: this machine drives a Ray cluster it did not start."""
    from flambe.cluster.state import ClusterState

    orch = network.hosts["orch"]
    exp = tmp_path / "exp.yaml"
    text = (REPO / "examples/cluster/experiment.yaml").read_text()
    text = text.replace("../data/moons.csv", str(REPO / "examples/data/moons.csv"))
    text = text.replace("name: moons-cluster", f"name: on-ray\nsave_path: {tmp_path / 'out'}")
    exp.write_text(
        text.split("  evaluate: !Evaluator")[0].replace("n_layers: !g [1, 2]", "n_layers: 1")
    )
    token = ClusterState(NAME).folder / "ray_auth_token"
    # a Ray driver runs on a node of the cluster (as `ray job submit` runs it on the head):
    # here, inside the orchestrator's namespace, as a process of this machine's environment
    done = subprocess.run(
        [
            *orch.nsenter(),
            "env",
            "RAY_AUTH_MODE=token",
            f"RAY_AUTH_TOKEN_PATH={token}",
            sys.executable,
            "-m",
            "flambe.cli",
            "run",
            str(exp),
            "--ray-address",
            f"{orch.address}:6379",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=400,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    progress = json.loads((tmp_path / "out/output__on-ray/progress.json").read_text())
    variants = progress["stages"]["train"]["variants"].values()
    assert len(variants) == 2 and {v["status"] for v in variants} == {"success"}
    # the head offers no CPU: the trials ran on the factories, not here
    assert {v["host"] for v in variants} <= {"factory1", "factory2"}


def _write_extension(folder: Path) -> None:
    """A local extension: an activation the trials on the factories must import."""
    (folder / "softsign_ext").mkdir(parents=True)
    (folder / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
        '[project]\nname = "softsign-ext"\nversion = "0.1.0"\n'
        '[tool.hatch.build.targets.wheel]\npackages = ["softsign_ext"]\n'
    )
    (folder / "softsign_ext/__init__.py").write_text(
        "import torch\n\n\nclass Softsign(torch.nn.Module):\n"
        "    def forward(self, x):\n        return x / (1 + x.abs())\n"
    )


def test_an_extension_runs_on_the_factories_and_a_killed_orchestrator_resumes(
    brought_up: Path, network: Any, env: dict[str, str], tmp_path: Path
) -> None:
    """A local extension is installed on every host; kill -9 of the remote run, then resubmit."""
    import signal

    orch = network.hosts["orch"]
    _write_extension(tmp_path / "softsign-ext")
    exp = tmp_path / "experiment.yaml"
    text = (REPO / "examples/cluster/experiment.yaml").read_text()
    text = text.replace("../data/moons.csv", str(REPO / "examples/data/moons.csv"))
    text = text.replace("name: moons-cluster", "name: phoenix").replace(
        "max_steps: 3", "max_steps: !g [2, 30]"
    )
    text = text.replace("n_layers: !g [1, 2]", "n_layers: 1")
    text = text.replace(
        "hidden_activation: !torch.ReLU {}", "hidden_activation: !softsign_ext.Softsign {}"
    )
    exp.write_text("softsign_ext: ./softsign-ext\n---\n" + text.split("  evaluate: !Evaluator")[0])
    # importable here (as for a user who has it installed); the hosts install the upload
    env = {**env, "PYTHONPATH": str(tmp_path / "softsign-ext")}
    started = time.monotonic()
    flambe("run", str(exp), "--cluster", str(brought_up), env=env)
    print(f"submitted in {time.monotonic() - started:.1f} s")
    run_folder = orch.home / "flambe-runs/phoenix"
    out = orch.home / "phoenix/output__phoenix/train"
    deadline = time.monotonic() + 300
    while True:  # kill the orchestrator's run once some variants finished and others run
        trials = [json.loads(p.read_text()) for p in out.glob("*/trial.json")]
        if any(t.get("done") for t in trials) and any(not t.get("done") for t in trials):
            break
        assert time.monotonic() < deadline, (run_folder / "output.log").read_text()[-3000:]
        time.sleep(0.3)
    os.killpg(int((run_folder / "pid").read_text()), signal.SIGKILL)
    _wait_for_run(orch, "phoenix", timeout=60)
    killed = time.monotonic()
    print(f"killed after {killed - started:.1f} s")
    time.sleep(5)  # Ray stops the dead driver's trials on the factories
    finished = {
        p.parent.name for p in out.glob("*/trial.json") if json.loads(p.read_text()).get("done")
    }
    assert finished and len(finished) < 4, finished

    flambe("run", str(exp), "--cluster", str(brought_up), env=env)
    _wait_for_run(orch, "phoenix", timeout=500)
    print(f"resumed run took {time.monotonic() - killed:.1f} s")
    log = (run_folder / "output.log").read_text()
    assert "Done" in log, log[-3000:]
    doc = json.loads((orch.home / "phoenix/output__phoenix/progress.json").read_text())
    variants = doc["stages"]["train"]["variants"].values()
    assert len(variants) == 4 and {v["status"] for v in variants} <= {"success", "reused"}
    # what had finished before the kill is taken as it was, the rest ran again
    assert {v["name"] for v in variants if v["reused"]} == finished
    assert {v["host"] for v in variants if not v["reused"]} <= {"factory1", "factory2"}
    for host in ("orch", "factory1", "factory2"):  # installed in every host's environment
        site = network.hosts[host].home / ".flambe/env/lib"
        assert list(site.glob("python*/site-packages/softsign_ext/__init__.py")), host


@pytest.mark.slow  # last in the module: it kills a factory of the shared cluster
def test_a_factory_lost_mid_stage_is_retried_on_the_other(
    brought_up: Path, network: Any, env: dict[str, str], tmp_path: Path
) -> None:
    """Kill factory2's Ray processes while the stage runs: the stage still completes there."""
    import signal

    from tests.cluster.conftest import ray_temp_dir

    orch, factory2 = network.hosts["orch"], network.hosts["factory2"]
    exp = tmp_path / "experiment.yaml"
    text = (REPO / "examples/cluster/experiment.yaml").read_text()
    text = text.replace("../data/moons.csv", str(REPO / "examples/data/moons.csv"))
    text = text.replace("name: moons-cluster", "name: survivor").replace(
        "max_steps: 3", "max_steps: 40"
    )
    exp.write_text(text)
    flambe("run", str(exp), "--cluster", str(brought_up), env=env)
    progress_file = orch.home / "survivor/output__survivor/progress.json"
    deadline = time.monotonic() + 300
    while True:  # wait until train variants run on factory2
        doc = json.loads(progress_file.read_text()) if progress_file.exists() else {}
        train = doc.get("stages", {}).get("train", {}).get("variants", {}).values()
        if any(v.get("host") == "factory2" and (v.get("step") or 0) >= 2 for v in train):
            break
        assert time.monotonic() < deadline, "the train stage never ran on factory2"
        time.sleep(0.5)
    temp = ray_temp_dir(factory2)
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="ignore")
            except OSError:
                continue
            if temp in cmd:  # the raylet and its agents; its workers die with it
                os.kill(int(pid), signal.SIGKILL)
    _wait_for_run(orch, "survivor", timeout=500)
    doc = json.loads(progress_file.read_text())
    for stage in ("train", "evaluate"):
        variants = doc["stages"][stage]["variants"].values()
        assert len(variants) == 4 and {v["status"] for v in variants} == {"success"}, variants
    # the variants factory2 was running continued from their last checkpoint, copied to the
    # orchestrator (the hosts share no files): no step was reported twice
    log = (orch.home / "flambe-runs/survivor/output.log").read_text()
    for variant in doc["stages"]["train"]["variants"].values():
        name = re.escape(variant["name"])
        steps = [int(s) for s in re.findall(rf"train/{name} step (\d+)/40", log)]
        assert steps and steps == sorted(set(steps)) and steps[-1] == 40, (variant, steps)
    assert {v["host"] for v in doc["stages"]["evaluate"]["variants"].values()} == {"factory1"}
