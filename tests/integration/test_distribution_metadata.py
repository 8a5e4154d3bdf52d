"""Every distribution builds an sdist and a wheel that a package index accepts.

The five distributions and ``examples/plugin-hello`` are built with hatchling
(offline, as ``pip``'s build step would), then checked the way an index, a
license audit and a resolver look at them: ``twine check --strict``, the
metadata fields, the license text, ``py.typed``, the version written once in
the package, and the pins between the distributions.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tarfile
import zipfile
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

tomllib = pytest.importorskip("tomllib", reason="tomllib is in the standard library from 3.11")

REPO_ROOT = Path(__file__).resolve().parents[2]
LICENSE = (REPO_ROOT / "LICENSE").read_text()
FIVE = ("flambe-core", "flambe-nlp", "flambe-vision", "flambe-cluster", "flambe-report")
SOURCES = {name: REPO_ROOT / "packages" / name for name in FIVE}
SOURCES["flambe-hello"] = REPO_ROOT / "examples" / "plugin-hello"
# the first hatchling that writes Metadata-Version 2.4 for a License-Expression
HATCHLING_FLOOR = Version("1.27")
PYTHONS = ("3.10", "3.11", "3.12", "3.13")


def _pyproject(name: str) -> dict:
    return tomllib.loads((SOURCES[name] / "pyproject.toml").read_text())


def _source_version(name: str) -> str:
    """The version written in the package itself (``__version__``)."""
    path = SOURCES[name] / _pyproject(name)["tool"]["hatch"]["version"]["path"]
    found = re.search(r'^__version__ = "([^"]+)"$', path.read_text(), re.MULTILINE)
    assert found, f"{path} has no __version__ line"
    return found.group(1)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Path]]:
    """Build every sdist and wheel; name -> {"wheel": path, "sdist": path}."""
    out = tmp_path_factory.mktemp("dist")
    found: dict[str, dict[str, Path]] = {}
    for name, source in SOURCES.items():
        target = out / name
        result = subprocess.run(
            [sys.executable, "-m", "hatchling", "build", "-d", str(target)],
            cwd=source,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, f"{name}: {result.stdout}{result.stderr}"
        found[name] = {"wheel": next(target.glob("*.whl")), "sdist": next(target.glob("*.tar.gz"))}
    return found


def _metadata(wheel: Path) -> tuple[Message, list[str]]:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        text = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    return HeaderParser().parsestr(text), names


def test_twine_accepts_every_sdist_and_wheel(built: dict[str, dict[str, Path]]) -> None:
    files = [str(path) for kinds in built.values() for path in kinds.values()]
    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *files], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == len(files)


@pytest.mark.parametrize("name", list(SOURCES))
def test_wheel_metadata(built: dict[str, dict[str, Path]], name: str) -> None:
    meta, names = _metadata(built[name]["wheel"])
    assert Version(meta["Metadata-Version"]) >= Version("2.4")
    assert meta["License-Expression"] == "MIT"
    assert meta.get_all("License-File") == ["LICENSE"]
    classifiers = meta.get_all("Classifier")
    for python in PYTHONS:
        assert f"Programming Language :: Python :: {python}" in classifiers
    assert "Typing :: Typed" in classifiers
    assert any(c.startswith("Development Status :: ") for c in classifiers)
    assert meta["Author"]
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    wanted = {"Homepage", "Issues"} | ({"Documentation", "Changelog"} if name in FIVE else set())
    assert wanted <= set(urls), urls
    assert all(url.startswith("https://") for url in urls.values())
    # an index page shows the long description far from the repository: no relative links
    relative = re.findall(r"\]\((?!https?://|#)([^)]+)\)", meta.get_payload())
    assert not relative, f"{name}'s README links to {relative}, dead on an index page"
    assert any(n.endswith("/py.typed") for n in names), f"{name}'s wheel has no py.typed"
    with zipfile.ZipFile(built[name]["wheel"]) as archive:
        licenses = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert licenses and archive.read(licenses[0]).decode() == LICENSE


@pytest.mark.parametrize("name", list(SOURCES))
def test_sdist_ships_the_license(built: dict[str, dict[str, Path]], name: str) -> None:
    with tarfile.open(built[name]["sdist"]) as archive:
        member = next(m for m in archive.getmembers() if m.name.endswith("/LICENSE"))
        assert archive.extractfile(member).read().decode() == LICENSE  # type: ignore[union-attr]


@pytest.mark.parametrize("name", list(SOURCES))
def test_the_version_is_written_once(built: dict[str, dict[str, Path]], name: str) -> None:
    project = _pyproject(name)["project"]
    assert "version" not in project and project["dynamic"] == ["version"]
    meta, _ = _metadata(built[name]["wheel"])
    assert meta["Version"] == _source_version(name)


def test_flambe_version_reads_the_package() -> None:
    flambe = Path(sys.executable).parent / "flambe"
    result = subprocess.run([str(flambe), "--version"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert _source_version("flambe-core") in result.stdout


@pytest.mark.parametrize("name", list(SOURCES))
def test_builds_need_a_hatchling_that_writes_valid_metadata(name: str) -> None:
    requires = [Requirement(r) for r in _pyproject(name)["build-system"]["requires"]]
    hatchling = next(r for r in requires if r.name == "hatchling")
    assert not hatchling.specifier.contains("1.26.99"), hatchling
    assert hatchling.specifier.contains(str(HATCHLING_FLOOR))


def test_pins_between_the_distributions_agree() -> None:
    core = Version(_source_version("flambe-core"))
    for name in [*FIVE[1:], "flambe-hello"]:
        pins = [Requirement(r) for r in _pyproject(name)["project"]["dependencies"]]
        pin = next(r for r in pins if r.name == "flambe-core")
        assert pin.specifier.contains(core), f"{name} pins {pin}, flambe-core is {core}"
    extras = _pyproject("flambe-core")["project"]["optional-dependencies"]
    for name in FIVE[1:]:
        extra = Requirement(extras[name.removeprefix("flambe-")][0])
        assert extra.name == name
        assert extra.specifier.contains(Version(_source_version(name))), (name, extra)


def test_every_distribution_carries_the_repository_license() -> None:
    for name, source in SOURCES.items():
        assert (source / "LICENSE").read_text() == LICENSE, f"{name}'s LICENSE differs"
