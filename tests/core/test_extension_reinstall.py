"""``flambe run -i`` installs again a local-folder extension whose code changed.

A real pip install, offline, into a folder of its own (``PIP_TARGET``, on
``PYTHONPATH``) so the shared environment is left alone. The extension is a
runnable that writes a version string: after an edit of the folder, a run
without ``-i`` warns that it uses the stale installed copy, a run with
``-i`` installs the folder again and uses the new code, and a further
``-i`` run installs nothing. Every run logs which code it used.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

from flambe.compile.extension_sources import fingerprint

FLAMBE = Path(sys.executable).parent / "flambe"
MODULE = "reinst_ext_xq7"

CODE = """
from pathlib import Path
from flambe.runnable import Runnable

class Writer(Runnable):
    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def run(self, force: bool = False, **kwargs: object) -> None:
        Path(self.path).write_text("{version}")
"""


def _project(root: Path) -> Path:
    project = root / "ext-project"
    (project / MODULE).mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        textwrap.dedent(f"""
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"

        [project]
        name = "reinst-ext-xq7"
        version = "0.1.0"

        [tool.hatch.build.targets.wheel]
        packages = ["{MODULE}"]
    """)
    )
    (project / MODULE / "__init__.py").write_text(CODE.format(version="v1"))
    return project


def _env(target: Path) -> dict:
    env = dict(os.environ)
    env.update(
        PIP_TARGET=str(target),
        PIP_NO_INDEX="1",
        PIP_NO_BUILD_ISOLATION="0",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PYTHONPATH=str(target),
    )
    return env


def _run(work: Path, target: Path, *flags: str) -> str:
    result = subprocess.run(
        [str(FLAMBE), "run", *flags, "cfg.yaml", "--force"],
        cwd=work,
        env=_env(target),
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


def _used(output: str) -> str:
    """The 'code from ...' line a run logs for the extension."""
    lines = [line for line in output.splitlines() if f"Extension {MODULE}: code from" in line]
    assert len(lines) == 1, output
    return lines[0]


def test_a_changed_local_extension_is_installed_again_with_i(tmp_path: Path) -> None:
    project = _project(tmp_path)
    target = tmp_path / "target"
    target.mkdir()
    (tmp_path / "cfg.yaml").write_text(
        f"{MODULE}: {project.name}\n---\n!{MODULE}.Writer\npath: out.txt\n"
    )
    out = tmp_path / "out.txt"

    first = _run(tmp_path, target, "-i")
    assert out.read_text() == "v1"
    used = _used(first)
    assert str(target / MODULE / "__init__.py") in used and f"from {project}" in used
    assert f"content {fingerprint(project)[:12]}" in used

    (project / MODULE / "__init__.py").write_text(CODE.format(version="v2"))

    stale = _run(tmp_path, target)
    assert out.read_text() == "v1"  # without -i: the installed copy, and a warning saying so
    assert f"Extension {MODULE}: {project} changed since it was installed" in stale
    assert "Rerun with -i" in stale

    again = _run(tmp_path, target, "-i")
    assert out.read_text() == "v2"
    assert f"{project} changed since it was installed; installing it again" in again
    assert re.search(r"pip install --upgrade \S*ext-project", again), again
    assert f"content {fingerprint(project)[:12]}" in _used(again)

    settled = _run(tmp_path, target, "-i")
    assert out.read_text() == "v2"
    assert "Installing extension" not in settled and "changed since" not in settled
    assert f"content {fingerprint(project)[:12]}" in _used(settled)


def test_the_fingerprint_ignores_build_outputs_and_caches(tmp_path: Path) -> None:
    project = _project(tmp_path)
    before = fingerprint(project)
    for junk in (
        "build/lib/x.py",
        "dist/x.whl",
        f"{MODULE}/__pycache__/x.pyc",
        "x.egg-info/PKG-INFO",
        ".git/HEAD",
    ):
        (project / junk).parent.mkdir(parents=True, exist_ok=True)
        (project / junk).write_text("junk")
    assert fingerprint(project) == before
    (project / MODULE / "extra.py").write_text("")
    assert fingerprint(project) != before
