"""What ``--ray-address`` ships to a Ray cluster started elsewhere (no Ray needed here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flambe.experiment import ray_shipping


def test_flambe_and_its_plugins_are_staged_as_one_package_with_their_entry_points(
    tmp_path: Path,
) -> None:
    entries = ray_shipping.stage_modules({"flambe"}, tmp_path)
    assert tmp_path / "flambe" in entries
    # core and every installed plugin's subpackage, merged into one folder
    assert (tmp_path / "flambe/experiment/ray_shipping.py").is_file()
    assert (tmp_path / "flambe/nlp/__init__.py").is_file()
    assert (tmp_path / "flambe/vision/__init__.py").is_file()
    assert not list(tmp_path.rglob("__pycache__"))
    infos = {p.name.split("-")[0]: p for p in entries if p.name.endswith(".dist-info")}
    assert {"flambe_core", "flambe_nlp", "flambe_vision"} <= set(infos)
    assert "flambe.plugins" in (infos["flambe_nlp"] / "entry_points.txt").read_text()
    assert "Name: flambe-nlp" in (infos["flambe_nlp"] / "METADATA").read_text()


def test_an_extension_module_is_shipped_beside_flambe(tmp_path: Path) -> None:
    entries = ray_shipping.stage_modules({"flambe", "json"}, tmp_path)
    assert tmp_path / "json" in entries and (tmp_path / "json/decoder.py").is_file()


def test_a_module_that_does_not_exist_here_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModuleNotFoundError, match="no_such_extension cannot be shipped"):
        ray_shipping.stage_modules({"no_such_extension"}, tmp_path)


def test_shipping_only_when_connecting_to_a_cluster_started_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    assert not ray_shipping.shipping_enabled()
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.1:6379")
    assert ray_shipping.shipping_enabled()
    monkeypatch.setenv("FLAMBE_RAY_SHIP", "0")  # flambe-cluster's hosts have this code
    assert not ray_shipping.shipping_enabled()


def test_the_users_runtime_env_is_merged(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    extra = {"pip": ["pluggy"], "py_modules": ["/data/mine"], "env_vars": {"A": "1"}}
    monkeypatch.setenv("FLAMBE_RAY_RUNTIME_ENV", json.dumps(extra))
    env, stage = ray_shipping.shipped_runtime_env(tmp_path)
    assert stage == tmp_path
    assert env["pip"] == ["pluggy"] and env["env_vars"] == {"A": "1"}
    assert env["py_modules"][0] == str(tmp_path / "flambe") and "/data/mine" in env["py_modules"]
    monkeypatch.setenv("FLAMBE_RAY_RUNTIME_ENV", "{pip: [")
    with pytest.raises(ValueError, match="FLAMBE_RAY_RUNTIME_ENV is not JSON"):
        ray_shipping.user_runtime_env()
