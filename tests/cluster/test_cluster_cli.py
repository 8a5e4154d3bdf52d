"""``flambe cluster ...`` and the cluster options of ``flambe run``, without hosts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.cluster


def flambe(*args: str, home: Path) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ, FLAMBE_HOME=str(home))
    return subprocess.run(
        [sys.executable, "-m", "flambe.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_plugins_list_the_cluster_command_backend_and_tags(tmp_path: Path) -> None:
    done = flambe("plugins", "--json", home=tmp_path)
    plugins = {p["name"]: p for p in json.loads(done.stdout)["plugins"]}
    cluster = plugins["cluster"]
    assert cluster["distribution"] == "flambe-cluster" and cluster["error"] is None
    assert "cluster" in cluster["commands"] and "s3" in cluster["storage_backends"]
    assert {"SSHCluster", "AWSCluster"} <= set(cluster["tags"])
    assert "flambe_run_on_cluster" in cluster["hooks"]


def test_unknown_cluster_names_the_known_ones(tmp_path: Path) -> None:
    done = flambe("cluster", "status", "nope", home=tmp_path)
    assert done.returncode == 1
    assert "no cluster named 'nope' was brought up from this machine" in done.stderr
    assert flambe("cluster", "list", home=tmp_path).stdout == ""


def test_ray_address_and_cluster_do_not_mix(tmp_path: Path) -> None:
    config = tmp_path / "x.yaml"
    config.write_text("!Experiment\nname: x\npipeline: {}\n")
    done = flambe(
        "run", str(config), "--cluster", str(config), "--ray-address", "auto", home=tmp_path
    )
    assert done.returncode == 2 and "--ray-address cannot be combined with --cluster" in done.stderr


def test_ssh_cluster_config_errors_are_located(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(
        "!SSHCluster\nname: c\norchestrator_ip: [1.2.3.4, 5.6.7.8, 9.9.9.9]\n"
        "factories_ips: []\nkey: ~/.ssh/k\nusername: u\n"
    )
    done = flambe("run", str(config), home=tmp_path)
    assert done.returncode == 22
    assert f"{config}:1" in done.stderr and "orchestrator_ip" in done.stderr


def test_ray_client_addresses_are_refused_with_the_way_to_run(tmp_path: Path) -> None:
    """ray:// would run Tune's driver on the cluster, out of the experiment's reach."""
    config = tmp_path / "exp.yaml"
    config.write_text(
        "!Experiment\nname: client\nray_address: ray://10.0.0.10:10001\npipeline:\n"
        "  a: !torch.Linear {in_features: 2, out_features: 1}\n"
    )
    done = flambe("run", str(config), "--ray-address", "ray://10.0.0.10:10001", home=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "--ray-address ray://10.0.0.10:10001: a Ray Client address" in done.stderr
    assert "ray job submit" in done.stderr and "--ray-address auto" in done.stderr
    done = flambe("validate", str(config), home=tmp_path)
    assert done.returncode == 22, done.stdout + done.stderr
    text = done.stdout + done.stderr
    assert "ray_address ray://10.0.0.10:10001: a Ray Client address" in text
    assert f"{config}:3:" in text  # the line of ray_address
    assert "ray job submit" in text
