"""``flambe run --ray-address`` on a Ray cluster whose nodes have no Flambé at all.

Two hosts (network namespaces off a bridge of the test's own namespace) run a Ray
head (no CPUs) and a worker, started with Ray's own CLI from a Python environment
that has Ray and torch but no Flambé: its site folder is this environment's, with
every Flambé distribution filtered out. The driver runs on the head's host (as
``ray job submit`` runs it), and the trials can only import Flambé from what the
driver ships through Ray's runtime environment.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.conftest import _require_hosts, base_python, kill_processes_naming
from tests.cluster.netns import Network

REPO = Path(__file__).resolve().parents[2]
PORT = 6391


def _is_flambe(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith(("flambe", "_flambe", "__editable__"))


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An interpreter that imports Ray and torch but not Flambé (nor sees its metadata)."""
    root = tmp_path_factory.mktemp("bare-env")
    site = root / "site"
    site.mkdir()
    for entry in Path(sysconfig.get_paths()["purelib"]).iterdir():
        if not _is_flambe(entry.name) and entry.suffix != ".pth":
            (site / entry.name).symlink_to(entry)
    env = root / "env"
    subprocess.run([base_python(), "-m", "venv", "--without-pip", str(env)], check=True)
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    (env / "lib" / version / "site-packages" / "bare.pth").write_text(f"{site}\n")
    python = str(env / "bin" / "python")
    probe = subprocess.run(
        [
            python,
            "-c",
            "import ray, torch\ntry:\n import flambe\nexcept ImportError: print('none')",
        ],
        capture_output=True,
        text=True,
        cwd=root,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert probe.stdout.strip() == "none", probe.stdout + probe.stderr
    return python


def _environment(token: Path) -> dict[str, str]:
    """The environment of the cluster's processes and the driver: Ray's token auth on."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "RAY_ADDRESS")}
    env.update(RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token))
    return env


def _ray(python: str, host: Any, *args: str, temp: str, token: Path) -> None:
    env = _environment(token)
    done = subprocess.run(
        [
            *host.nsenter(),
            python,
            "-m",
            "ray.scripts.scripts",
            "start",
            *args,
            f"--temp-dir={temp}",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd="/",
        timeout=180,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


@pytest.fixture(scope="module")
def bare_cluster(bare_python: str) -> Iterator[tuple[Network, str, Path, Path]]:
    """A Ray head (0 CPUs) and a worker (2 CPUs) without Flambé; token file, worker's folder."""
    _require_hosts()
    root = Path(tempfile.mkdtemp(prefix="flambe-bare-"))
    token = root / "ray_auth_token"
    token.write_text(secrets.token_hex(32))
    net = Network(root, subnet="10.231.9", tag=f"{os.getpid() % 10000}b")
    temps = [tempfile.mkdtemp(prefix="fbr-", dir="/tmp") for _ in range(2)]
    try:
        head, worker = net.add_host("rayhead"), net.add_host("rayworker")
        _ray(
            bare_python,
            head,
            "--head",
            f"--port={PORT}",
            f"--node-ip-address={head.address}",
            "--num-cpus=0",
            "--num-gpus=0",
            "--include-dashboard=false",
            "--disable-usage-stats",
            temp=temps[0],
            token=token,
        )
        _ray(
            bare_python,
            worker,
            f"--address={head.address}:{PORT}",
            f"--node-ip-address={worker.address}",
            "--num-cpus=2",
            "--disable-usage-stats",
            temp=temps[1],
            token=token,
        )
        yield net, f"{head.address}:{PORT}", token, Path(temps[1])
    finally:
        kill_processes_naming(temps)
        net.close()
        subprocess.run(["rm", "-rf", str(root), *temps], check=False)


def test_stages_run_on_a_ray_cluster_without_flambe(
    bare_cluster: tuple[Network, str, Path, Path], tmp_path: Path
) -> None:
    net, address, token, worker_folder = bare_cluster
    exp = tmp_path / "exp.yaml"
    text = (REPO / "examples/cluster/experiment.yaml").read_text()
    text = text.replace("../data/moons.csv", str(REPO / "examples/data/moons.csv"))
    text = text.replace("name: moons-cluster", f"name: bare\nsave_path: {tmp_path / 'out'}")
    exp.write_text(
        text.split("  evaluate: !Evaluator")[0].replace("n_layers: !g [1, 2]", "n_layers: 1")
    )
    env = _environment(token)
    done = subprocess.run(
        [
            *net.hosts["rayhead"].nsenter(),
            sys.executable,
            "-m",
            "flambe.cli",
            "run",
            str(exp),
            "--ray-address",
            address,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=400,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    progress = json.loads((tmp_path / "out/output__bare/progress.json").read_text())
    variants = progress["stages"]["train"]["variants"].values()
    assert len(variants) == 2 and {v["status"] for v in variants} == {"success"}, variants
    # the head offers no CPU: the trials ran on the worker, whose Python has no Flambé
    assert {v["host"] for v in variants} == {"rayworker"}
    # and they imported the driver's code from what Ray unpacked on the worker: Flambé's
    # package and its distributions' entry points (on this test's shared file system the
    # checkout would also be reachable through a PYTHONPATH; shipping sends none)
    shipped = worker_folder / "session_latest/runtime_resources/py_modules_files"
    assert any(shipped.rglob("flambe/experiment/ray_shipping.py")), "flambe was not shipped"
    points = [p.read_text() for p in shipped.rglob("flambe_*.dist-info/entry_points.txt")]
    assert any("flambe.plugins" in text for text in points), points
