"""Fault injection for ``flambe.save(overwrite=True)``: the previous copy stays loadable, always.

Each process first checks what the previous (killed) one left: ``small``
loads and is one whole version (every weight and the step agree), then it
saves once and checks that the temporary ``.flambe-save-*`` folders and
``small.old-*`` copies of dead saves are gone; then it saves versions in a
loop until it is killed: by a planned fault at an exact window (after the
new copy is built, after the swap, between the two renames where the file
system cannot swap) or by a real SIGKILL at a random instant. Short in CI;
``bash scripts/test -m faults`` runs many more random kills.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from tests.core.fault_harness import FAULTEXT, environment

SAVER = textwrap.dedent("""
    import json, os, sys
    import torch
    import flambe, flambe_fault_ext
    from flambe.compile import serialization, yaml

    if os.environ.get("NO_EXCHANGE"):
        serialization._EXCHANGE_WORKS = False  # as on a file system without renameat2
    results = open("results.jsonl", "a")

    def report(**fields):
        results.write(json.dumps(fields) + "\\n")
        results.flush()

    def version_of(obj):
        values = set(obj.linear.weight.detach().flatten().tolist())
        values |= {float(obj.linear.bias.detach())}
        return sorted(values), obj.done_steps

    def leftovers():
        return sorted(e for e in os.listdir(".") if e.startswith(".flambe-save-") or ".old-" in e)

    obj = yaml.load("!flambe_fault_ext.FaultTrainer {width: %(width)d}")()
    if os.path.lexists("small") or leftovers():
        before = leftovers()
        try:
            values, step = version_of(flambe.load("small", weights_only=True))
            report(check="load", ok=values == [float(step)], step=step, leftovers=before)
        except Exception as exc:
            report(check="load", ok=False, error=repr(exc), leftovers=before)
    step = int(open("next").read()) if os.path.exists("next") else 0
    first = True
    while True:
        with torch.no_grad():
            obj.linear.weight.fill_(step)
            obj.linear.bias.fill_(step)
        obj.done_steps = step
        flambe.save(obj, "small", overwrite=True)
        if first:
            report(check="after-save", leftovers=leftovers())
            first = False
        step += 1
        open("next.tmp", "w").write(str(step))
        os.replace("next.tmp", "next")  # the harness's own counter must survive kills too
        report(saved=step - 1)
""")


def results(folder: Path) -> list[dict[str, Any]]:
    path = folder / "results.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def saver(
    folder: Path, width: int, faults: str | None = None, no_exchange: bool = False
) -> subprocess.Popen:
    (folder / "saver.py").write_text(SAVER % {"width": width})
    extra = {"FLAMBE_FAULTS": faults} if faults else {}
    if no_exchange:
        extra["NO_EXCHANGE"] = "1"
    return subprocess.Popen(
        [sys.executable, "saver.py"],
        cwd=folder,
        env=environment(extra),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def checks_since(folder: Path, count: int) -> list[dict[str, Any]]:
    return [r for r in results(folder)[count:] if "check" in r]


def assert_recovered(folder: Path, count: int, expect_leftovers: bool) -> None:
    """The run started at ``len(results) == count`` loaded a whole version and cleaned up."""
    found = checks_since(folder, count)
    load = [r for r in found if r["check"] == "load"]
    after = [r for r in found if r["check"] == "after-save"]
    assert load and load[0]["ok"], found
    if expect_leftovers:
        assert load[0]["leftovers"], "the planned fault left nothing to clean: the test is moot"
    assert after and after[0]["leftovers"] == [], found


def kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


# (fault point, whether the file system may swap, whether the kill leaves something behind)
WINDOWS = [
    ("save.built@2", False, True),
    ("save.swapped@2", False, True),
    ("save.set-aside@2", True, True),
    ("save.renamed@3", True, True),
]


def run_windows(folder: Path, width: int) -> bool:
    """One killed saver per window, each checking what the previous one left."""
    previous_leaves = False
    for plan, no_exchange, leaves in WINDOWS:
        count = len(results(folder))
        proc = saver(folder, width, f"{plan}=kill", no_exchange)
        assert proc.wait(timeout=240) == -9, proc.stderr.read().decode()
        if count:
            assert_recovered(folder, count, expect_leftovers=previous_leaves)
        previous_leaves = leaves
    return previous_leaves


def run_random(
    folder: Path, width: int, kills: int, rng: random.Random, leaves: bool | None = None
) -> None:
    """Kill savers at random instants; the first also checks what a planned fault left."""
    for _ in range(kills):
        count = len(results(folder))
        proc = saver(folder, width)
        deadline = time.monotonic() + 120
        while not any("saved" in r for r in results(folder)[count:]):
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 1.0))
        kill_group(proc)
        if count:
            assert_recovered(folder, count, expect_leftovers=bool(leaves))
        leaves = None
    assert_whole(folder)


def assert_whole(folder: Path) -> None:
    """``small`` loads, as one whole version, in this process too."""
    import flambe

    sys.path.insert(0, str(FAULTEXT))
    try:
        import flambe_fault_ext  # noqa: F401  (registers the tag)

        obj = flambe.load(str(folder / "small"), weights_only=True)
    finally:
        sys.path.remove(str(FAULTEXT))
    assert set(obj.linear.weight.flatten().tolist()) == {float(obj.done_steps)}


@pytest.mark.timeout(300)
def test_overwrite_keeps_a_loadable_copy_at_every_window(tmp_path: Path) -> None:
    leaves = run_windows(tmp_path, width=4096)
    run_random(tmp_path, width=100_000, kills=2, rng=random.Random(7), leaves=leaves)


@pytest.mark.faults
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("seed", range(4))
def test_overwrite_under_many_random_kills(tmp_path: Path, seed: int) -> None:
    run_random(tmp_path, width=400_000 * (seed + 1), kills=15, rng=random.Random(seed))


def test_leftovers_of_dead_saves_go_and_nothing_else(tmp_path: Path) -> None:
    import flambe
    from flambe.compile import yaml

    sys.path.insert(0, str(FAULTEXT))
    try:
        import flambe_fault_ext  # noqa: F401  (registers the tag)

        obj = yaml.load("!flambe_fault_ext.FaultTrainer {width: 4}")()
    finally:
        sys.path.remove(str(FAULTEXT))
    dead = tmp_path / ".flambe-save-999999999-abcd"  # a pid that cannot exist
    (dead / "small").mkdir(parents=True)
    aside = tmp_path / "small.old-0123abcd"
    aside.mkdir()
    mine = [tmp_path / "small.old-backup", tmp_path / ".flambe-save-notes.txt"]
    for path in mine:
        path.write_text("the user's own")
    (tmp_path / "small").write_text("a file where the save goes")
    flambe.save(obj, tmp_path / "small", overwrite=True)  # a folder replaces the file
    assert (tmp_path / "small" / "state.pt").exists()
    assert not dead.exists() and not aside.exists()
    assert all(path.read_text() == "the user's own" for path in mine)
