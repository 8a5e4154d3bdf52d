"""Validating a 10 MB config, and refusing hostile ones.

Figures (median of 3, same process):

* ``validate 10 MB``: :func:`flambe.compile.validate.validate_text` on an
  experiment whose first stage holds a 10 MB table of rows (about 1.7
  million values) that the second stage links to; target < 5 s (5.8 s
  before plain collections took a shorter way, 35 s at first), with the
  time of each phase (composing the YAML, building the values, checking);
* ``flambe validate big.yaml``: the same file checked by the command a user
  runs, in a new process (start-up, imports and all); target < 5 s;
* ``billion laughs``: the time to refuse nine levels of anchors aliasing
  anchors ten times over (10^9 values once expanded); target < 1 s;
* ``5,000 levels``: the time to refuse 5,000 nested lists; target < 1 s.

Usage: ``python bench/bench_validate.py [megabytes]``.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from _common import median_time  # noqa: E402

HEAD = (
    "!Experiment\nname: big\npipeline:\n  prep: !Script\n    script: my_train\n"
    "    kwargs:\n      rows:\n"
)
TAIL = "  train: !Script\n    script: my_train\n    kwargs:\n      rows: !@ prep[kwargs][rows]\n"


def big_config(megabytes: float) -> str:
    """An experiment config of about ``megabytes`` MB: a table of rows one stage links to."""
    target = int(megabytes * 2**20)
    parts, size, i = [HEAD], len(HEAD) + len(TAIL), 0
    while size < target:
        row = (
            f"        - {{id: {i}, name: row-{i}, score: {i * 0.5}, tags: [a, b, c], flag: true}}\n"
        )
        parts.append(row)
        size += len(row)
        i += 1
    parts.append(TAIL)
    return "".join(parts)


def billion_laughs(levels: int = 9, width: int = 10) -> str:
    """Anchors aliasing anchors: ``width ** levels`` values once expanded."""
    lines = [
        "!Experiment",
        "name: laughs",
        "pipeline:",
        "  s: !Script",
        "    script: x",
        "    kwargs:",
        "      a0: &a0 [" + ", ".join(["lol"] * width) + "]",
    ]
    for level in range(1, levels + 1):
        lines.append(f"      a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def deep_nesting(levels: int = 5000) -> str:
    """``levels`` nested flow lists."""
    return "!Experiment\nname: deep\npipeline:\n  s: " + "[" * levels + "1" + "]" * levels + "\n"


def phases(text: str) -> str:
    """The CPU time of each phase of validating ``text``, as a short line."""
    from flambe.compile.validate import check
    from flambe.compile.yaml import build, split_config
    from flambe.utils.gcpause import paused_gc

    with paused_gc():
        start = time.process_time()
        main = split_config(text, "big.yaml")[2]
        composed = time.process_time()
        plain: list = []
        root = build(main, "big.yaml", [], bind=False, plain=plain)
        built = time.process_time()
        del main
        check(root, [], plain)
        checked = time.process_time()
    return (
        f"compose {composed - start:.2f}s, build {built - composed:.2f}s, "
        f"check {checked - built:.2f}s"
    )


def flambe_command() -> list[str]:
    """The ``flambe`` command of this Python (its console script, else ``-m flambe.cli``)."""
    script = os.path.join(os.path.dirname(sys.executable), "flambe")
    if os.path.exists(script):
        return [script]
    found = shutil.which("flambe")
    return [found] if found else [sys.executable, "-m", "flambe.cli"]


def time_command(args: list[str], repeat: int = 3) -> tuple[float, float]:
    """Median wall time and mean CPU time (user + system) of a command that must succeed."""
    walls = []
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - start)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / repeat
    return sorted(walls)[len(walls) // 2], cpu


def main() -> None:
    """Print the figures (see the module documentation)."""
    from flambe.compile.validate import validate_text

    megabytes = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    text = big_config(megabytes)
    problems = validate_text(text, "big.yaml")
    assert problems == [], problems[:3]
    cpu_start = time.process_time()
    seconds = median_time(lambda: validate_text(text, "big.yaml"), repeat=3, warmup=0)
    cpu = (time.process_time() - cpu_start) / 3
    print(
        f"validate {len(text) / 2**20:.1f} MB: {seconds:.2f}s  (CPU {cpu:.2f}s: {phases(text)}; "
        "target < 5 s, 5.8 s before)",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "big.yaml")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        wall, cpu = time_command([*flambe_command(), "validate", path])
    print(f"flambe validate big.yaml: {wall:.2f}s  (CPU {cpu:.2f}s; target < 5 s)", flush=True)
    for name, hostile in (("billion laughs", billion_laughs()), ("5,000 levels", deep_nesting())):
        found = validate_text(hostile, "hostile.yaml")
        assert found and "the config" in found[0].message, found
        seconds = median_time(lambda h=hostile: validate_text(h, "hostile.yaml"), repeat=3)
        print(f"refuse {name}: {seconds:.3f}s  (target < 1 s; {found[0].location})", flush=True)


if __name__ == "__main__":
    main()
