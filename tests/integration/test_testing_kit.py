"""flambe.testing, the kit for plugin authors: examples/plugin-hello's own tests use it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from flambe.compile.registry import get_registry
from flambe.plugins import hookimpl
from flambe.plugins.manager import get_host
from flambe.testing import PluginLoadError, isolated_host, run_config

REPO_ROOT = Path(__file__).resolve().parents[2]


class Tags:
    @hookimpl
    def flambe_tags(self) -> dict[str, str]:
        return {"kit.Accuracy": "flambe.metric.dev.accuracy:Accuracy"}


class Namespace:
    @hookimpl
    def flambe_tag_namespaces(self) -> dict[str, str]:
        return {"kitns": "tests.integration.test_testing_kit:resolve"}


def resolve(name: str) -> type | None:
    from flambe.metric.dev.accuracy import Accuracy

    return Accuracy if name == "Accuracy" else None


class Typo:
    @hookimpl
    def flambe_tagz(self) -> dict[str, str]:
        return {}


def test_the_plugin_example_passes_its_own_tests() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "examples/plugin-hello", "-q", "-p", "no:cacheprovider"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout, result.stdout


def test_an_isolated_host_knows_core_and_the_given_plugins_only() -> None:
    outside = get_host()
    with isolated_host(Tags(), extra=Tags()) as host:
        assert get_host() is host
        assert [r.name for r in host.records] == ["core", "Tags", "extra"]
        assert "kit.Accuracy" in host.tags() and "Experiment" in host.tags()
        assert get_registry().resolve("!kit.Accuracy").cls.__name__ == "Accuracy"
    assert get_host() is outside
    # the registry forgot the tag the isolated plugin declared
    assert "kit.Accuracy" not in get_registry()._by_tag
    with isolated_host() as host:
        assert "kit.Accuracy" not in host.tags()
    with isolated_host(Namespace()):
        assert get_registry().resolve("!kitns.Accuracy").cls.__name__ == "Accuracy"
    assert "kitns.Accuracy" not in get_registry()._by_tag


def test_a_plugin_that_fails_to_load_fails_the_isolated_host() -> None:
    outside = get_host()
    with pytest.raises(PluginLoadError, match="unknown hook 'flambe_tagz'"):
        with isolated_host(typo=Typo()):
            pass
    assert get_host() is outside
    with isolated_host(typo=Typo(), check=False) as host:
        assert host.record("typo").error


def test_run_config_refuses_a_runnable_that_is_no_experiment(tmp_path: Path) -> None:
    config = tmp_path / "build.yaml"
    config.write_text(f"!Builder\ncomponent: !Accuracy {{}}\ndestination: {tmp_path / 'b'}\n")
    with pytest.raises(TypeError, match="describes a Builder, not an Experiment"):
        run_config(config)
