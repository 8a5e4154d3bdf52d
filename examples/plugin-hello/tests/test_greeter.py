"""The plugin's own tests, written with flambe.testing (run them with `pytest` in this folder)."""

from __future__ import annotations

from pathlib import Path

import flambe_hello.plugin
import pytest

from flambe.errors import ConfigError
from flambe.testing import run_config


def write_experiment(folder: Path) -> Path:
    config = folder / "experiment.yaml"
    config.write_text(
        "!Experiment\n"
        "name: greet\n"
        f"save_path: {folder / 'out'}\n"
        "pipeline:\n"
        "  hello: !hello.Greeter\n"
        "    name: world\n"
        f"    path: {folder / 'greeting.txt'}\n"
    )
    return config


def test_the_plugin_declares_its_tag(plugin_host) -> None:
    host = plugin_host(hello=flambe_hello.plugin)
    assert host.tags()["hello.Greeter"].import_path == "flambe_hello.greeter:Greeter"
    assert host.record("hello").error is None


def test_the_greeter_runs_as_a_stage_of_an_experiment(plugin_host, tmp_path: Path) -> None:
    plugin_host(hello=flambe_hello.plugin)
    progress = run_config(write_experiment(tmp_path))
    assert progress["status"] == "success"
    (variant,) = progress["stages"]["hello"]["variants"].values()
    assert variant["status"] == "success" and variant["step"] == 1
    assert (tmp_path / "greeting.txt").read_text() == "Hello, world!\n"


def test_an_override_changes_the_greeting(plugin_host, tmp_path: Path) -> None:
    plugin_host(hello=flambe_hello.plugin)
    run_config(write_experiment(tmp_path), overrides=["+pipeline.hello.greeting=Bonjour"])
    assert (tmp_path / "greeting.txt").read_text() == "Bonjour, world!\n"


def test_without_the_plugin_the_tag_is_unknown(plugin_host, tmp_path: Path) -> None:
    plugin_host()  # flambe-core alone
    with pytest.raises(ConfigError, match="hello.Greeter"):
        run_config(write_experiment(tmp_path))
