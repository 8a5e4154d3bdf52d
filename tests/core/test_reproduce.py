"""Environment records of a run, and ``flambe reproduce``: small CPU experiments, in process."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import tests.core.experiment_components  # noqa: F401  (registers the !X... tags)
from flambe.cli.main import cli
from flambe.experiment import environment_record as er
from flambe.experiment.reproduce import prepare, reproduce
from tests.core.exp_helpers import run, write_config

PIPELINE = """
model: !XModel
  width: 3
train: !XTrainer
  model: !@ model
  lr: 0.05
  steps: 2
evaluate: !XEvaluator
  model: !@ train.model
"""
RESOURCES = "resources:\n  data: data.csv\n  folder: vectors\n"


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args],
        cwd=folder,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    """A finished run of a three-stage experiment whose config is in a git repository."""
    (tmp_path / "data.csv").write_text("1,2,3\n")
    (tmp_path / "vectors").mkdir()
    (tmp_path / "vectors" / "a.txt").write_text("a 0.1\n")
    config = write_config(tmp_path, PIPELINE, top=RESOURCES)
    _git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("out/\n")
    _git(tmp_path, "add", "exp.yaml", "data.csv", "vectors", ".gitignore")
    _git(tmp_path, "commit", "-q", "-m", "config")
    (tmp_path / "notes.txt").write_text("untracked\n")
    config.write_text(config.read_text() + "# an uncommitted change\n")
    run(config)
    return tmp_path / "out" / "output__exp"


def test_a_run_records_its_environment(recorded: Path) -> None:
    record = json.loads((recorded / er.RECORD_FILE).read_text())
    commit = _git(recorded.parents[1], "rev-parse", "HEAD").strip()
    assert record["git"]["commit"] == commit
    assert "+# an uncommitted change" in record["git"]["diff"]
    assert record["git"]["untracked"] == ["notes.txt"]
    assert record["git"]["dirty"] is True
    import platform

    import torch

    assert record["python"] == platform.python_version()
    assert record["torch"] == torch.__version__
    assert record["cuda"] == torch.version.cuda
    assert record["distributions"]["flambe-core"]
    assert record["distributions"]["torch"]
    data = recorded.parents[1] / "data.csv"
    assert record["resources"]["data"] == {
        "path": str(data),
        "kind": "file",
        "sha256": hashlib.sha256(data.read_bytes()).hexdigest(),
        "size": data.stat().st_size,
    }
    assert record["resources"]["folder"]["kind"] == "folder"
    assert record["resources"]["folder"]["files"] == 1


def test_no_git_and_no_repository_are_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert er.git_state(str(tmp_path)) is None  # a folder in no repository
    _git(tmp_path, "init", "-q")
    state = er.git_state(str(tmp_path))
    assert state is not None and state["commit"] is None  # no commit yet
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no git on the PATH
    assert er.git_state(str(tmp_path)) is None


def test_file_hashes_are_cached_by_size_and_mtime(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 1000)
    cache = er.HashCache(str(tmp_path / "cache.json"))
    first = er.fingerprint(str(path), cache)["sha256"]
    cache.save()
    # a cached hash is trusted while the size and mtime are unchanged (not read again)
    again = er.HashCache(str(tmp_path / "cache.json"))
    again.entries[str(path)][2] = "cached"
    assert er.fingerprint(str(path), again)["sha256"] == "cached"
    stat = path.stat()
    path.write_bytes(b"y" * 1000)  # same size, new mtime: hashed again
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert er.fingerprint(str(path), again)["sha256"] not in ("cached", first)
    # a folder is remembered as a whole, by the sizes and times of its files
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    whole = er.fingerprint(str(folder), again)
    again.entries[er.FOLDER_KEY + str(folder)][2] = "cached folder"
    assert er.fingerprint(str(folder), again)["sha256"] == "cached folder"
    (folder / "b.txt").write_text("b")
    changed = er.fingerprint(str(folder), again)
    assert changed["sha256"] not in ("cached folder", whole["sha256"]) and changed["files"] == 2


def test_reproduce_gets_identical_metrics(recorded: Path, tmp_path: Path) -> None:
    result = reproduce(str(recorded), save_path=str(tmp_path / "again"), echo=lambda _: None)
    assert result.differences == []
    rows = {(r["stage"], r["variant"]): r for r in result.rows}
    assert set(rows) == {("model", "default"), ("train", "default"), ("evaluate", "default")}
    evaluate = rows[("evaluate", "default")]
    assert evaluate["recorded"] is not None  # the trained (randomly initialized) weights
    assert evaluate["new"] == evaluate["recorded"]
    assert rows[("train", "default")]["new"] == pytest.approx(0.05 * 3 * 2)
    assert result.identical
    new = tmp_path / "again" / "output__exp"
    assert (
        json.loads((new / "run.json").read_text())["seed"]
        == json.loads((recorded / "run.json").read_text())["seed"]
    )
    doc = json.loads((new / "progress.json").read_text())
    assert {v["status"] for s in doc["stages"].values() for v in s["variants"].values()} == {
        "success"
    }


def test_reproduce_one_stage_reuses_its_upstream(recorded: Path, tmp_path: Path) -> None:
    result = reproduce(
        str(recorded), stage="train", save_path=str(tmp_path / "one"), echo=lambda _: None
    )
    assert result.stages == ["model", "train"]  # evaluate comes after: not run
    doc = json.loads((tmp_path / "one" / "output__exp" / "progress.json").read_text())
    assert [v["status"] for v in doc["stages"]["model"]["variants"].values()] == ["reused"]
    assert [v["status"] for v in doc["stages"]["train"]["variants"].values()] == ["success"]
    assert "evaluate" not in doc["stages"]
    assert result.identical


def test_a_changed_resource_is_reported_before_the_rerun(recorded: Path, tmp_path: Path) -> None:
    data = recorded.parents[1] / "data.csv"
    data.write_text("1,2,4\n")
    (recorded.parents[1] / "vectors" / "b.txt").write_text("b 0.2\n")
    plan = prepare(str(recorded), save_path=str(tmp_path / "changed"))
    found = "\n".join(plan.differences)
    assert f"resource 'data': the file {data} changed" in found
    assert "resource 'folder': the folder" in found
    assert not (tmp_path / "changed").exists()  # nothing ran


def test_flambe_reproduce_command(recorded: Path, tmp_path: Path) -> None:
    assert "reproduce" in CliRunner().invoke(cli, ["--help"]).output
    (recorded.parents[1] / "exp.yaml").write_text("# edited after the run\n")
    result = CliRunner().invoke(
        cli, ["reproduce", str(recorded), "-o", str(tmp_path / "cli"), "--check"]
    )
    assert result.exit_code == 0, result.output
    assert "The environment differs from the recorded run:" in result.output
    assert "git: the uncommitted changes differ" in result.output
    assert "Metrics, recorded and rerun:" in result.output
    assert "identical" in result.output and "differs" not in result.output.split("rerun:")[-1]
    # a recorded metric that the rerun does not get: --check fails
    doc = json.loads((recorded / "progress.json").read_text())
    for entry in doc["stages"]["train"]["variants"].values():
        entry["last_metric"] += 1
    (recorded / "progress.json").write_text(json.dumps(doc))
    other = CliRunner().invoke(
        cli, ["reproduce", str(recorded), "--stage", "train", "-o", str(tmp_path / "x"), "--check"]
    )
    assert other.exit_code == 1, other.output
    assert "differs" in other.output and "metrics differ from the recorded ones" in other.output
    again = CliRunner().invoke(cli, ["reproduce", str(recorded), "-o", str(tmp_path / "cli")])
    assert again.exit_code == 22 and "holds outputs already" in again.output
    missing = CliRunner().invoke(cli, ["reproduce", str(tmp_path)])
    assert missing.exit_code == 22 and "is not the output folder of an experiment" in missing.output


def test_distributions_are_read_again_after_an_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "flambe-fake-dist" not in er.distributions()
    info = tmp_path / "flambe_fake_dist-1.2.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: flambe-fake-dist\nVersion: 1.2\n")
    assert er.distributions()["flambe-fake-dist"] == "1.2"
