"""One broken plugin never takes a command down.

Each test installs real distributions (a ``.dist-info`` folder with its
``flambe.plugins`` entry point, found by ``importlib.metadata``) into a
folder put on ``PYTHONPATH``: a working plugin whose runnable writes a file,
and one plugin broken in one way (its module does not import, a hook is
misspelled, a hook raises, a tag declaration is malformed, or it claims a
tag the working plugin claims too). Then the ``flambe`` command runs as a
user would: ``--help``, ``plugins``, ``validate`` and ``run`` keep working;
``plugins`` lists the broken plugin with its error; a config that uses a tag
of the broken plugin says which distribution failed and why.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

FLAMBE = Path(sys.executable).parent / "flambe"

WRITER = '''
from pathlib import Path
from flambe.runnable import Runnable

class Writer(Runnable):
    """Write ``text`` to ``path``."""
    def __init__(self, path: str, text: str = "written") -> None:
        super().__init__()
        self.path = path
        self.text = text

    def run(self, force: bool = False, **kwargs: object) -> None:
        Path(self.path).write_text(self.text)
'''

GOOD_PLUGIN = """
from flambe.plugins import hookimpl

@hookimpl
def flambe_tags():
    return {"good.Writer": "goodplug_xq7.writer:Writer",
            "good.Shared": "goodplug_xq7.writer:Writer"}
"""

BROKEN: dict[str, str] = {
    "import_error": """
import goodbye_no_such_module_xq7
""",
    "unknown_hook": """
from flambe.plugins import hookimpl

@hookimpl
def flambe_tag():
    return {"unknown_hook.Thing": "bad_unknown_hook.thing:Thing"}
""",
    "hook_raises": """
from flambe.plugins import hookimpl

@hookimpl
def flambe_tags():
    raise RuntimeError("the declaration table is corrupt")
""",
    "bad_declaration": """
from flambe.plugins import hookimpl

@hookimpl
def flambe_tags():
    return {"bad_declaration.Thing": "bad_declaration thing Thing",
            "bad_declaration.Other": "bad_declaration.thing:Other"}
""",
    "duplicate_tag": """
from flambe.plugins import hookimpl

@hookimpl
def flambe_tags():
    return {"good.Shared": "bad_duplicate_tag.thing:Writer",
            "duplicate_tag.Thing": "bad_duplicate_tag.thing:Thing"}
""",
}

# what `flambe plugins` and a config using !<breakage>.Thing must say
EXPECTED_ERROR = {
    "import_error": "ModuleNotFoundError: No module named 'goodbye_no_such_module_xq7'",
    "unknown_hook": "unknown hook 'flambe_tag' (did you mean 'flambe_tags'?)",
    "hook_raises": "flambe_tags raised RuntimeError: the declaration table is corrupt",
    "bad_declaration": "'bad_declaration thing Thing' is not an import path 'module:attribute'",
}


def _distribution(site: Path, dist: str, entry: str, module: str, files: dict[str, str]) -> None:
    info = site / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[flambe.plugins]\n{entry} = {module}.plugin\n")
    package = site / module
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name, text in files.items():
        (package / name).write_text(textwrap.dedent(text))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working plugin and five plugins, each broken in one way, installed in one folder."""
    site = tmp_path_factory.mktemp("plugins-site")
    _distribution(
        site,
        "goodplug-dist",
        "goodplug",
        "goodplug_xq7",
        {"plugin.py": GOOD_PLUGIN, "writer.py": WRITER},
    )
    for breakage, text in BROKEN.items():
        _distribution(
            site,
            f"{breakage.replace('_', '-')}-dist",
            breakage,
            f"bad_{breakage}",
            {"plugin.py": text},
        )
    return site


def _flambe(args: list[str], site: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("FLAMBE_DISABLE_PLUGIN_AUTOLOAD", "FLAMBE_BLOCK_PLUGINS")
    }
    env["PYTHONPATH"] = str(site)
    return subprocess.run(
        [str(FLAMBE), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120
    )


def test_help_and_plugins_list_every_broken_plugin_with_its_error(
    site: Path, tmp_path: Path
) -> None:
    helped = _flambe(["--help"], site, tmp_path)
    assert helped.returncode == 0, helped.stdout + helped.stderr
    assert "Traceback" not in helped.stderr and "validate" in helped.stdout

    listed = _flambe(["plugins"], site, tmp_path)
    output = listed.stdout + listed.stderr
    assert listed.returncode == 1, output
    assert "Traceback" not in output
    assert "core (flambe-core" in listed.stdout and "goodplug (goodplug-dist 0.1)" in listed.stdout
    assert "!good.Writer" in listed.stdout
    lines = listed.stdout.splitlines()
    for breakage, error in EXPECTED_ERROR.items():
        head = f"{breakage} ({breakage.replace('_', '-')}-dist 0.1)"
        assert any(
            line.startswith(head) and "FAILED" in line and error in line for line in lines
        ), f"{breakage}: {error!r} not listed in\n{listed.stdout}"
    assert any(
        "tag '!good.Shared' is claimed by two plugins" in line
        and "goodplug-dist" in line
        and "duplicate-tag-dist" in line
        for line in lines
    ), listed.stdout


def test_validate_and_run_keep_working(site: Path, tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    good = tmp_path / "good.yaml"
    good.write_text(f"!good.Writer\npath: {target}\ntext: fine\n")
    checked = _flambe(["validate", str(good)], site, tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    ran = _flambe(["run", str(good)], site, tmp_path)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert target.read_text() == "fine"


def test_a_tag_of_a_broken_plugin_says_which_distribution_failed_and_why(
    site: Path, tmp_path: Path
) -> None:
    config = tmp_path / "bad.yaml"
    items = "".join(f"  - !{breakage}.Thing {{}}\n" for breakage in EXPECTED_ERROR)
    config.write_text(
        f"!good.Writer\npath: {tmp_path / 'x'}\ntext:\n{items}  - !good.Shared {{}}\n"
    )
    result = _flambe(["validate", str(config)], site, tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 22, output
    assert "Traceback" not in output
    for number, (breakage, error) in enumerate(EXPECTED_ERROR.items(), start=4):
        line = next((line for line in output.splitlines() if f"!{breakage}.Thing" in line), "")
        assert line.startswith(f"{config}:{number}:"), output
        assert f"{breakage.replace('_', '-')}-dist" in line and "failed to load" in line, line
        assert error in line, line
    assert "did you mean '!" not in output
    shared = next(line for line in output.splitlines() if "!good.Shared" in line)
    assert shared.startswith(f"{config}:8:") and "claimed by two plugins" in shared
    assert "goodplug-dist" in shared and "duplicate-tag-dist" in shared

    ran = _flambe(["run", str(config)], site, tmp_path)
    assert ran.returncode == 22 and "Traceback" not in ran.stdout + ran.stderr
    assert "import-error-dist" in ran.stdout + ran.stderr
