"""The test suite passes on a machine that has only the repository.

The real data sets live in ``../shared/data`` beside the repository; CI has
them, a fresh clone does not. Tests that read them must skip, saying why,
when they are absent. Two checks keep it so:

* statically, no test module but ``tests/conftest.py`` names the shared
  folder: the others get its paths from ``conftest`` (the ``shared_data``
  fixture, ``require_shared_data``, ``@needs_mnist``), which skip;
* dynamically, the repository's files are copied to a temporary folder with
  no ``shared`` beside it (a clone), where the whole suite must collect and
  every test module that may touch the shared data (it mentions it, or an
  example config that reads it) must pass, its data tests skipped with the
  reason. Only those modules run (the others are deselected), to keep this
  cheap: they run anyway in the suite itself.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
THIS = Path(__file__).resolve()
# how a test names the shared data, or the real data sets it holds
MENTIONS_DATA = re.compile(
    r"shared[/_]data|[\"']shared[\"']|SHARED_DATA|needs_mnist"
    r"|\b(MNIST|IMAGES|LABELS)\b"
)
NAMES_THE_FOLDER = re.compile(r"[\"']shared[\"']|[\"'][^\"'\n]*\.\./shared\b")
# a test may rewrite an example's relative path to the data (then it holds that path)
REWRITES_A_PATH = re.compile(r"\.(replace|count)\(")
SKIP_REASON = "is absent; tests that read real data sets need the folder"
_IGNORED = {
    ".git",
    ".venv",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    "build",
    "dist",
    "node_modules",
}


def _test_modules(root: Path) -> list[Path]:
    return sorted(p for p in (root / "tests").rglob("*.py") if p.name != "__init__.py")


def data_test_modules(root: Path) -> list[str]:
    """Test modules under ``root`` that may read the shared data, relative to ``root``."""
    examples = sorted(
        {
            p.name
            for p in (root / "examples").rglob("*.yaml")
            if "shared/data" in p.read_text(encoding="utf-8", errors="replace")
        }
    )
    found = []
    for path in _test_modules(root):
        if not path.name.startswith("test_") or path.name == THIS.name:
            continue
        text = path.read_text(encoding="utf-8")
        if MENTIONS_DATA.search(text) or any(name in text for name in examples):
            found.append(str(path.relative_to(root)))
    return found


def _repository_files(root: Path) -> list[str]:
    """What a clone holds (tracked files, plus new ones not ignored), relative to ``root``."""
    if (root / ".git").exists() and shutil.which("git"):
        listed = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return [name for name in listed.split("\0") if name and (root / name).is_file()]
    return [
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and not _IGNORED.intersection(p.relative_to(root).parts)
    ]


def _clone(root: Path, target: Path) -> Path:
    for name in _repository_files(root):
        destination = target / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / name, destination)
    return target


def _pytest(clone: Path, *args: str) -> subprocess.CompletedProcess:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CI", "PYTEST_ADDOPTS", "PYTEST_XDIST_WORKER")
    }
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_only_conftest_names_the_shared_folder() -> None:
    offenders = []
    for path in _test_modules(ROOT):
        if path == ROOT / "tests" / "conftest.py" or path == THIS:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if NAMES_THE_FOLDER.search(line) and not REWRITES_A_PATH.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not offenders, (
        "build paths of the shared data with tests.conftest (the shared_data fixture, "
        "require_shared_data) so that they skip when it is absent:\n" + "\n".join(offenders)
    )


def test_the_data_modules_are_found() -> None:
    found = data_test_modules(ROOT)
    for expected in (
        "tests/vision/test_datasets.py",
        "tests/vision/test_idx.py",
        "tests/nlp/test_datasets.py",
        "tests/nlp/test_examples_nlp.py",
    ):
        assert expected in found


@pytest.mark.timeout(900)
def test_a_clone_without_shared_data_collects_and_skips_the_data_tests(tmp_path: Path) -> None:
    clone = _clone(ROOT, tmp_path / "flambe")
    assert not (clone.parent / "shared").exists()

    # the whole suite is collected (imported), and the modules that may read the data run
    modules = set(data_test_modules(clone))
    others = [
        str(p.relative_to(clone))
        for p in _test_modules(clone)
        if p.name.startswith("test_") and str(p.relative_to(clone)) not in modules
    ]
    deselect = [arg for name in others for arg in ("--deselect", name)]
    result = _pytest(clone, "-q", "-rfEs", "tests", *deselect)
    output = result.stdout + result.stderr
    failed = [line for line in output.splitlines() if line.startswith(("FAILED", "ERROR"))]
    assert result.returncode == 0, "\n".join(failed) + "\n" + output[-6000:]
    skipped = [line for line in output.splitlines() if line.startswith("SKIPPED")]
    for_data = [line for line in skipped if SKIP_REASON in line]
    assert for_data, output[-3000:]
    missing = str(clone.parent / "shared" / "data")
    assert all(missing in line for line in for_data)
