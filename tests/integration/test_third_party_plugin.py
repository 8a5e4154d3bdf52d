"""A third-party plugin registers exactly like a first-party one.

``examples/plugin-hello`` is installed with pip into a folder of its own
(``pip install --target``), which the subprocesses below put on
``PYTHONPATH``: the plugin is found through its ``flambe.plugins`` entry
point, and a YAML config uses ``!hello.Greeter`` with no import by hand.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "examples" / "plugin-hello"
# the console script installed beside the interpreter running the tests
FLAMBE = Path(sys.executable).parent / "flambe"

CONFIG = textwrap.dedent("""\
    !hello.Greeter
    name: plugins
    path: {path}
""")


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the installed flambe-hello distribution, and nothing else."""
    site = tmp_path_factory.mktemp("hello-site")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "--target",
            str(site),
            str(EXAMPLE),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return site


def _require_cli() -> None:
    try:
        found = importlib.util.find_spec("flambe.cli.main") is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        pytest.xfail("the flambe command line (flambe.cli.main) does not exist yet")


def _env(site: Path) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("FLAMBE_DISABLE_PLUGIN_AUTOLOAD", "FLAMBE_BLOCK_PLUGINS")
    }
    env["PYTHONPATH"] = str(site)
    return env


def test_yaml_tag_of_an_installed_plugin_resolves_lazily(plugin_site: Path, tmp_path: Path) -> None:
    greeting = tmp_path / "greeting.txt"
    code = textwrap.dedent("""
        import json, sys
        from flambe.compile.yaml import load
        from flambe.plugins.manager import get_host

        config = sys.stdin.read()
        before = "flambe_hello.greeter" in sys.modules
        greeter = load(config, file="greet.yaml")()
        greeter.run()
        record = get_host().record("hello")
        print(json.dumps({
            "imported_before_load": before,
            "class": type(greeter).__module__ + ":" + type(greeter).__qualname__,
            "plugin": [record.distribution, record.version, record.error, record.hooks],
        }))
    """)
    result = subprocess.run(
        [sys.executable, "-c", code],
        input=CONFIG.format(path=greeting),
        capture_output=True,
        text=True,
        env=_env(plugin_site),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)

    assert greeting.read_text() == "Hello, plugins!\n"
    assert found["imported_before_load"] is False
    assert found["class"] == "flambe_hello.greeter:Greeter"
    assert found["plugin"] == ["flambe-hello", "0.1.0", None, ["flambe_tags"]]


def test_flambe_run_uses_an_installed_plugin(plugin_site: Path, tmp_path: Path) -> None:
    _require_cli()
    greeting = tmp_path / "greeting.txt"
    config = tmp_path / "greet.yaml"
    config.write_text(CONFIG.format(path=greeting))

    result = subprocess.run(
        [str(FLAMBE), "run", str(config)],
        capture_output=True,
        text=True,
        env=_env(plugin_site),
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert greeting.read_text() == "Hello, plugins!\n"


def test_example_config_runs_from_its_folder(plugin_site: Path, tmp_path: Path) -> None:
    _require_cli()
    config = tmp_path / "greet.yaml"
    config.write_text((EXAMPLE / "greet.yaml").read_text())

    result = subprocess.run(
        [str(FLAMBE), "run", str(config)],
        capture_output=True,
        text=True,
        env=_env(plugin_site),
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "greeting.txt").read_text() == "Hello, world!\n"


def test_flambe_sees_the_plugin_as_a_user_would(plugin_site: Path, tmp_path: Path) -> None:
    """What docs/plugins.md asks a plugin's own tests to check: listed, validated, blockable."""
    _require_cli()
    listed = subprocess.run(
        [str(FLAMBE), "plugins", "--json"],
        capture_output=True,
        text=True,
        env=_env(plugin_site),
        cwd=tmp_path,
    )
    assert listed.returncode == 0, listed.stderr
    assert '"flambe-hello"' in listed.stdout and '"hello.Greeter"' in listed.stdout

    config = tmp_path / "greet.yaml"
    config.write_text((EXAMPLE / "greet.yaml").read_text())
    valid = subprocess.run(
        [str(FLAMBE), "validate", str(config)],
        capture_output=True,
        text=True,
        env=_env(plugin_site),
        cwd=tmp_path,
    )
    assert valid.returncode == 0, valid.stdout + valid.stderr

    blocked = subprocess.run(
        [str(FLAMBE), "validate", str(config)],
        capture_output=True,
        text=True,
        env={**_env(plugin_site), "FLAMBE_BLOCK_PLUGINS": "hello"},
        cwd=tmp_path,
    )
    assert blocked.returncode != 0
    assert "hello.Greeter" in blocked.stdout + blocked.stderr
