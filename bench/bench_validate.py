"""Validating a 10 MB config, and refusing hostile ones.

Figures (median of 3, same process):

* ``validate 10 MB``: :func:`flambe.compile.validate.validate_text` on an
  experiment whose first stage holds a 10 MB table of rows (about 1.7
  million values) that the second stage links to; target < 5 s;
* ``billion laughs``: the time to refuse nine levels of anchors aliasing
  anchors ten times over (10^9 values once expanded); target < 1 s;
* ``5,000 levels``: the time to refuse 5,000 nested lists; target < 1 s.

Usage: ``python bench/bench_validate.py [megabytes]``.
"""

from __future__ import annotations

import os
import sys
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
        f"validate {len(text) / 2**20:.1f} MB: {seconds:.2f}s  (CPU {cpu:.2f}s; target < 5 s)",
        flush=True,
    )
    for name, hostile in (("billion laughs", billion_laughs()), ("5,000 levels", deep_nesting())):
        found = validate_text(hostile, "hostile.yaml")
        assert found and "the config" in found[0].message, found
        seconds = median_time(lambda h=hostile: validate_text(h, "hostile.yaml"), repeat=3)
        print(f"refuse {name}: {seconds:.3f}s  (target < 1 s; {found[0].location})", flush=True)


if __name__ == "__main__":
    main()
