"""Secrets never reach the console, the logs or any file a run writes; logs are private.

A planted secret is looked for in every file under the output folder, the
Flambé home folder (logs) and Ray's temporary folder, and in the console,
after a real run on Ray Tune; a malformed secrets file is refused naming
the file and the line, never the value.
"""

from __future__ import annotations

import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.core.fault_harness import finish, log_text, output_of, start, write_experiment

SECRET = "S3CRET-zq81-do-not-print"

TWO_VARIANTS = """\
a: !flambe_fault_ext.FaultTrainer
  lr: !g [0.01, 0.02]
  steps: 2
"""

NAN = """\
a: !flambe_fault_ext.FaultTrainer
  lr: .nan
  steps: 2
"""


@pytest.fixture
def ray_tmp() -> Iterator[Path]:
    """A short folder for Ray's sessions (its socket paths must stay under 108 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="rt", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def files_holding(roots: list[Path], needle: str) -> list[str]:
    found = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                try:
                    if needle.encode() in path.read_bytes():
                        found.append(str(path))
                except OSError:
                    pass
    return found


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.timeout(300)
def test_a_planted_secret_is_written_nowhere(tmp_path: Path, ray_tmp: Path) -> None:
    home = tmp_path / "home"
    secrets = tmp_path / "secrets.ini"
    secrets.write_text(f"[AWS]\nSECRET_TOKEN = {SECRET}\n")
    config = write_experiment(tmp_path, TWO_VARIANTS)
    proc = start(  # on Ray: its session files are checked too
        config,
        {"FLAMBE_HOME": str(home), "RAY_TMPDIR": str(ray_tmp)},
        ["-s", str(secrets), "-v", "--executor", "ray"],
    )
    assert finish(proc) == 0, log_text(config)
    console = log_text(config)
    assert "Experiment f: success" in console or "success" in console
    assert SECRET not in console
    roots = [output_of(config), home, ray_tmp]
    assert any(ray_tmp.rglob("*")), "Ray wrote nothing where it was told: the check is moot"
    assert files_holding(roots, SECRET) == []
    # the log folder and files are the user's only
    logs = home / "logs"
    assert mode(home) == 0o700 and mode(logs) == 0o700
    assert [mode(f) for f in logs.iterdir()] and all(mode(f) == 0o600 for f in logs.iterdir())


def test_a_malformed_secrets_file_is_refused_without_its_values(tmp_path: Path) -> None:
    home = tmp_path / "home"
    secrets = tmp_path / "s.ini"
    secrets.write_text(f"AWS_SECRET_TOKEN = {SECRET}\n")
    config = write_experiment(tmp_path, TWO_VARIANTS)
    assert finish(start(config, {"FLAMBE_HOME": str(home)}, ["-s", str(secrets)])) == 22
    console = log_text(config)
    assert f"secrets file '{secrets}' is not a valid INI file: line 1 " in console
    assert SECRET not in console
    assert files_holding([home, tmp_path / "out"], SECRET) == []
    assert mode(home / "logs" / "log.log") == 0o600


@pytest.mark.parametrize(
    "text, problem",
    [
        ("[AWS]\nOK = 1\n{s}\n", "line 3 is not a 'KEY = value' line"),
        ("[AWS]\nTOKEN = {s}\nTOKEN = {s}\n", "line 3 repeats key 'token' of section [AWS]"),
        ("[AWS]\nA = 1\n[AWS]\nB = {s}\n", "line 3 repeats section [AWS]"),
    ],
)
def test_every_malformed_line_is_named_not_shown(tmp_path: Path, text: str, problem: str) -> None:
    from flambe.errors import ConfigError
    from flambe.runnable.runnable import Runnable

    class Plain(Runnable):
        def run(self, **kwargs: object) -> None:
            """Nothing to run."""

    secrets = tmp_path / "s.ini"
    secrets.write_text(text.format(s=SECRET))
    with pytest.raises(ConfigError) as info:
        Plain().inject_secrets(secrets)
    assert problem in str(info.value) and SECRET not in str(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None


def test_the_log_hint_points_at_the_real_log_or_says_there_is_none(tmp_path: Path) -> None:
    config = write_experiment(tmp_path, NAN)
    home = tmp_path / "home"
    assert finish(start(config, {"FLAMBE_HOME": str(home)})) == 1
    written = log_text(config)
    assert f"(traceback in {home / 'logs' / 'log.log'};" in written
    assert "Traceback" in (home / "logs" / "log.log").read_text()
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    unwritable = blocker / "home"  # cannot be created, even by root
    assert finish(start(config, {"FLAMBE_HOME": str(unwritable)}, ["-f"])) == 1
    console = log_text(config)
    assert "traceback in" not in console and "no log file was written" in console
    assert not unwritable.exists()
