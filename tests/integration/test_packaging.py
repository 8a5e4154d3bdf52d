"""The five distributions install, regular and editable, and share the ``flambe`` namespace.

flambe-core owns ``flambe/__init__.py`` and extends its ``__path__`` with
``pkgutil.extend_path``; each plugin distribution ships only its subpackage
(``flambe/nlp/...``). These tests install the distributions into a new,
empty virtual environment and import the plugin subpackages from there.

How the environment is isolated
-------------------------------
The test environment (``.venv``) already holds the distributions as editable
installs, so a venv that sees it (``--system-site-packages``, or a ``.pth``
line naming its site-packages) would also see its ``flambe_*.dist-info``
folders, and ``importlib.metadata`` would report the entry points twice, from
two places. Instead:

* the temporary venv is made with ``python -m venv --without-pip`` from the
  base interpreter, so it starts empty;
* the third-party packages it needs (pluggy for the plugin host, pip and
  hatchling to install) come from a *filtered view* of ``.venv``'s
  site-packages: a folder of symlinks to every entry except Flambé's own
  packages, their ``dist-info`` folders and all ``.pth`` files, named by one
  ``.pth`` file in the temporary venv;
* the distributions are installed into the venv with
  ``pip install --no-deps --no-index --no-build-isolation`` (offline: the
  tests run without a network), from their source folders: pip builds the
  wheels with hatchling, exactly as a user's ``pip install`` would;
* the probe runs with ``python -I`` in a temporary folder, so neither
  ``PYTHONPATH`` nor the repository itself is on ``sys.path``.

Everything named ``flambe`` that the probe finds therefore comes from the
temporary venv (regular install) or from the ``.pth`` files that the editable
install wrote into it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ("nlp", "vision", "cluster", "report")
DISTRIBUTIONS = ("flambe-core",) + tuple(f"flambe-{name}" for name in PLUGINS)

PROBE = textwrap.dedent(f"""
    import json, sys
    from importlib import import_module, metadata

    import flambe
    found = {{"flambe": flambe.__file__, "path": list(flambe.__path__), "plugins": {{}}}}
    for name in {PLUGINS!r}:
        found["plugins"][name] = import_module("flambe." + name).__file__
    found["entry_points"] = {{
        ep.name: {{"value": ep.value, "dist": ep.dist.name,
                  "location": str(ep.dist.locate_file(""))}}
        for ep in metadata.entry_points(group="flambe.plugins")
    }}
    found["entry_point_count"] = len(list(metadata.entry_points(group="flambe.plugins")))

    from flambe.plugins.manager import create_plugin_manager
    _, records = create_plugin_manager()
    found["records"] = [[r.name, r.distribution, r.version, r.error] for r in records]
    found["torch_imported"] = "torch" in sys.modules
    print(json.dumps(found))
""")


def _excluded(name: str) -> bool:
    lowered = name.lower()
    return (
        lowered.endswith(".pth")
        or lowered.startswith(("flambe", "_flambe", "__editable__"))
        or lowered == "__pycache__"
    )


@pytest.fixture(scope="module")
def deps_view(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of symlinks to ``.venv``'s third-party packages, Flambé left out."""
    site_packages = Path(sysconfig.get_paths()["purelib"])
    view = tmp_path_factory.mktemp("deps")
    for entry in site_packages.iterdir():
        if not _excluded(entry.name):
            (view / entry.name).symlink_to(entry)
    return view


def _make_venv(root: Path, deps_view: Path) -> Path:
    """An empty venv at ``root`` that finds third-party packages in ``deps_view``."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(purelib) / "_third_party.pth").write_text(f"{deps_view}\n")
    return python


def _pip_install(python: Path, *args: str) -> None:
    command = [
        str(python),
        "-I",
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "--no-index",
        "--no-build-isolation",
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def _probe(python: Path, cwd: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLAMBE_") or k == "FLAMBE_HOME"}
    result = subprocess.run(
        [str(python), "-I", "-c", PROBE], capture_output=True, text=True, cwd=cwd, env=env
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _version(name: str) -> str:
    """The version written in a distribution's package (its one source)."""
    package = "flambe" if name == "core" else f"flambe/{name}"
    text = (REPO_ROOT / "packages" / f"flambe-{name}" / "src" / package / "__init__.py").read_text()
    found = re.search(r'^__version__ = "([^"]+)"$', text, re.MULTILINE)
    assert found, f"flambe-{name} writes no __version__"
    return found.group(1)


def _check_plugins_found(found: dict) -> None:
    assert found["entry_point_count"] == len(PLUGINS), found["entry_points"]
    for name in PLUGINS:
        ep = found["entry_points"][name]
        assert ep["value"] == f"flambe.{name}.plugin"
        assert ep["dist"] == f"flambe-{name}"
    records = {name: (dist, version, error) for name, dist, version, error in found["records"]}
    assert records["core"] == ("flambe-core", _version("core"), None)
    for name in PLUGINS:
        assert records[name] == (f"flambe-{name}", _version(name), None)
    # plugin modules are cheap: building the host imports no torch
    assert found["torch_imported"] is False


def test_regular_install_shares_the_flambe_namespace(tmp_path: Path, deps_view: Path) -> None:
    python = _make_venv(tmp_path / "venv", deps_view)
    _pip_install(python, *(f"packages/{dist}" for dist in DISTRIBUTIONS))
    site_packages = Path(
        subprocess.run(
            [str(python), "-I", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # the plugin wheels ship no flambe/__init__.py: core's is the only one
    assert (site_packages / "flambe" / "__init__.py").is_file()
    record = (site_packages / f"flambe_nlp-{_version('nlp')}.dist-info" / "RECORD").read_text()
    assert "flambe/__init__.py" not in record

    found = _probe(python, tmp_path)

    assert Path(found["flambe"]).parent == site_packages / "flambe"
    for name in PLUGINS:
        assert Path(found["plugins"][name]) == site_packages / "flambe" / name / "__init__.py"
    for ep in found["entry_points"].values():
        assert Path(ep["location"]) == site_packages
    _check_plugins_found(found)


def test_editable_install_shares_the_flambe_namespace(tmp_path: Path, deps_view: Path) -> None:
    python = _make_venv(tmp_path / "venv", deps_view)
    editable = [arg for dist in DISTRIBUTIONS for arg in ("-e", f"packages/{dist}")]
    _pip_install(python, *editable)
    venv = (tmp_path / "venv").resolve()

    found = _probe(python, tmp_path)

    packages = REPO_ROOT / "packages"
    assert Path(found["flambe"]) == packages / "flambe-core" / "src" / "flambe" / "__init__.py"
    for name in PLUGINS:
        expected = packages / f"flambe-{name}" / "src" / "flambe" / name / "__init__.py"
        assert Path(found["plugins"][name]) == expected
    # the metadata, and so the entry points, come from the new venv only
    for ep in found["entry_points"].values():
        assert Path(ep["location"]).resolve().is_relative_to(venv)
    _check_plugins_found(found)


def test_import_flambe_is_cheap() -> None:
    code = (
        "import sys, flambe\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'ray')\n"
        "               or (m.startswith('flambe.')\n"
        "                   and m not in ('flambe.utils', 'flambe.utils.lazy',\n"
        "                                 'flambe.utils.gcpause')))\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_hatch_environments_install_what_the_scripts_install() -> None:
    import tomllib

    # one list: the root pyproject.toml's dependency group 'test', which holds the torch pin
    groups = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["dependency-groups"]
    assert groups["torch"] == ["torch==2.13.0"]
    assert {"include-group": "torch"} in groups["test"]
    printed = subprocess.run(
        [sys.executable, "scripts/requirements", "test"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert printed[0] == "torch==2.13.0" and set(printed[1:]) == set(groups["test"][1:])
    install = (REPO_ROOT / "scripts" / "install").read_text()
    assert "scripts/requirements torch)" in install and "scripts/requirements test)" in install
    # the pin is written nowhere else in the project's sources and scripts
    pinned = subprocess.run(
        ["git", "grep", "-l", "torch==2.13", "--", ":!tests", ":!*.md"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
    ).stdout.split()
    assert pinned == ["pyproject.toml"], pinned

    config = tomllib.loads((REPO_ROOT / "hatch.toml").read_text())
    for name in ("default", "hatch-test"):
        env = config["envs"][name]
        assert env["installer"] == "pip", name  # uv would not take the local torch build
        assert env["dependency-groups"] == ["test"], name
        # hatch-test adds to hatch's own test tools (--cover, --parallel, --retries need them)
        assert "dependencies" not in env and "extra-dependencies" not in env, name
        assert env["workspace"]["members"] == ["packages/*"], name
    # `hatch test` runs through the same network isolation as `bash scripts/test`
    scripts = config["envs"]["hatch-test"]["scripts"]
    assert scripts["run"].startswith("bash scripts/test"), scripts
    assert scripts["run-cov"].startswith("bash scripts/test --coverage"), scripts
    assert {"cov-combine", "cov-report"} <= set(scripts)
