"""``flambe.load(weights_only=True)`` stays inert: nothing a save names is imported or run.

Each test loads in a fresh interpreter, so ``sys.modules`` shows exactly what
the load imported. The crafted saves carry an extensions header (``this:
this``, a local extension whose import writes a marker, a pip location whose
build backend writes a marker) or a ``class.txt`` naming such a module; the
trusted load of the same save is shown to run that code, so the inert
result is not an accident of the setup.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

GOOD = """
import torch
from flambe.compile import Component


class Good(Component, torch.nn.Module):
    def __init__(self, n: int = 2) -> None:
        super().__init__()
        self.n = n
        self.linear = torch.nn.Linear(n, 1)
"""

EVIL = """
import os
import torch
from flambe.compile import Component

open(os.environ["EVIL_MARKER"], "a").write("imported\\n")


class Thing(Component, torch.nn.Module):
    def __init__(self, n: int = 2) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(n, 1)
"""

BACKEND = """
import os
open(os.environ["EVIL_MARKER"], "a").write("build backend ran\\n")


def get_requires_for_build_wheel(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise RuntimeError("no wheel")
"""


def python(tmp_path: Path, code: str, marker: Path) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter (tmp_path on sys.path); it prints a JSON line last."""
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path)] + sys.path), EVIL_MARKER=str(marker)
    )
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["stdout"] = proc.stdout
    return out


SAVE = """
    import json, os
    import flambe, goodmod
    from flambe.compile import yaml
    good = yaml.load("!goodmod.Good {n: 3}")()
    for name, header in (("good", "this: this"), ("evil", "evil_ext: evil_ext"),
                         ("pip", "missing_ext_q9: ./evil_project"), ("classfile", "")):
        flambe.save(good, name)
        path = os.path.join(name, "config.yaml")
        text = open(path).read()
        if name == "evil":
            text = text.replace("!goodmod.Good", "!evil_ext.Thing")
        if header:
            open(path, "w").write(header + "\\n---\\n" + text)
    open(os.path.join("classfile", "class.txt"), "w").write("evil_ext:Thing")
    print(json.dumps({}))
"""

INERT = """
    import json, sys
    import flambe, goodmod
    from flambe.errors import LoadError

    def attempt(name, **kwargs):
        try:
            obj = flambe.load(name, weights_only=True, **kwargs)
            return {"n": obj.n, "error": None}
        except LoadError as exc:
            return {"n": None, "error": str(exc)}

    out = {"good": attempt("good"), "evil": attempt("evil"),
           "classfile": attempt("classfile", fast_init=True),
           "pip_install": attempt("pip", auto_install=True), "pip": attempt("pip")}
    out["modules"] = sorted(m for m in ("this", "evil_ext", "missing_ext_q9") if m in sys.modules)
    print(json.dumps(out))
"""

TRUSTED = """
    import json, sys
    import flambe, goodmod
    flambe.load("good")
    this = "this" in sys.modules
    flambe.load("classfile", fast_init=True)
    flambe.load("evil")
    print(json.dumps({"this": this, "evil": "evil_ext" in sys.modules}))
"""


@pytest.fixture(scope="module")
def loads(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """What an inert process and then a trusted one make of the crafted saves."""
    folder = tmp_path_factory.mktemp("weights-only")
    (folder / "goodmod.py").write_text(GOOD)
    (folder / "evil_ext.py").write_text(EVIL)
    project = folder / "evil_project"
    project.mkdir()
    (project / "backend.py").write_text(BACKEND)
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        '[project]\nname = "not-installed-ext"\nversion = "1"\n'
    )
    marker = folder / "marker"
    python(folder, SAVE, folder / "unused-marker")
    inert = python(folder, INERT, marker)
    after_inert = marker.read_text() if marker.exists() else ""
    trusted = python(folder, TRUSTED, marker)
    return {
        "inert": inert,
        "after_inert": after_inert,
        "trusted": trusted,
        "after_trusted": marker.read_text() if marker.exists() else "",
    }


def test_nothing_a_save_names_is_imported_installed_or_run(loads: dict[str, Any]) -> None:
    assert loads["inert"]["modules"] == []
    assert loads["after_inert"] == ""  # neither the extension nor the build backend ran
    assert "Beautiful is better than ugly" not in loads["inert"]["stdout"]


def test_an_extensions_header_is_ignored_and_registered_classes_load(loads: dict[str, Any]) -> None:
    assert loads["inert"]["good"] == {"n": 3, "error": None}  # header 'this: this'
    assert loads["inert"]["pip"] == {"n": 3, "error": None}  # header naming a pip location
    # the trusted mode honours the same header: the crafted file is meaningful
    assert loads["trusted"]["this"] is True


def test_a_tag_of_an_importable_module_is_refused_without_importing_it(
    loads: dict[str, Any],
) -> None:
    error = loads["inert"]["evil"]["error"]
    assert "weights-only" in error and "evil_ext.Thing" in error
    assert loads["trusted"]["evil"] is True and "imported" in loads["after_trusted"]


def test_a_class_file_is_not_imported_by_fast_init(loads: dict[str, Any]) -> None:
    assert loads["inert"]["classfile"] == {"n": 3, "error": None}
    # trusted fast init imports what class.txt names: the marker is written once per process
    assert loads["after_trusted"].count("imported") == 1


def test_auto_install_with_weights_only_is_refused(loads: dict[str, Any]) -> None:
    error = loads["inert"]["pip_install"]["error"]
    assert "auto_install=True cannot be combined with weights_only=True" in error
    assert "build backend ran" not in loads["after_inert"] + loads["after_trusted"]
