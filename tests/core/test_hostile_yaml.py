"""Hostile YAML: aliases of aliases, deep nesting and large files end in a located error, fast."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from flambe.compile.component import Component
from flambe.compile.compose import MAX_DEPTH, MAX_NODES, LimitError
from flambe.compile.validate import validate_text
from flambe.compile.yaml import load
from flambe.errors import ConfigError, YAMLSyntaxError

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
from bench_validate import big_config, billion_laughs, deep_nesting  # noqa: E402


class HyHolder(Component):
    def __init__(self, items: Any = None) -> None:
        self.items = items


def _line_of(text: str, needle: str) -> int:
    return next(i for i, row in enumerate(text.splitlines(), 1) if needle in row)


def test_billion_laughs_is_refused_where_it_passes_the_limit() -> None:
    text = billion_laughs()
    start = time.perf_counter()
    problems = validate_text(text, "laughs.yaml")
    assert time.perf_counter() - start < 5
    assert len(problems) == 1 and isinstance(problems[0], LimitError)
    # a6 is the first anchor whose expansion (about 10^6 x 11 values) passes 5 million
    assert problems[0].location.line == _line_of(text, "a6: &a6")
    assert f"more than {MAX_NODES:,} values" in problems[0].message
    assert "alias" in problems[0].hint


def test_flambe_run_refuses_billion_laughs_with_exit_22(tmp_path: Path) -> None:
    config = tmp_path / "laughs.yaml"
    config.write_text(billion_laughs())
    proc = subprocess.run(
        [sys.executable, "-m", "flambe.cli", "run", str(config)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 22, (proc.stdout, proc.stderr)
    assert f"{config}:{_line_of(config.read_text(), 'a6: &a6')}:" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "flambe-output").exists()


def test_shared_nodes_are_walked_once() -> None:
    # 10^9 paths through shared lists, built in Python where no YAML limit applies
    code = textwrap.dedent("""
        from tests.core.test_hostile_yaml import HyHolder
        from flambe.compile.schema import Schema
        inner = Schema(HyHolder, items=None)
        value = [inner] * 10
        for _ in range(8):
            value = [value] * 10
        schema = Schema(HyHolder, items=value)
        schema.add_extensions_metadata({"tests": "."})
        assert schema.aggregate_extensions_metadata() == {"tests": "."}
        print("done")
    """)
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0 and "done" in proc.stdout, proc.stderr


def test_an_alias_used_many_times_within_the_limit_loads_as_one_object() -> None:
    text = "base: &b !HyHolder {items: [1, 2]}\nmany: [" + ", ".join(["*b"] * 1000) + "]\n"
    data = load(text)
    assert all(item is data["base"] for item in data["many"])


def test_5000_levels_of_nesting_give_a_located_error_not_a_recursion_error() -> None:
    text = deep_nesting(5000)
    problems = validate_text(text, "deep.yaml")
    assert len(problems) == 1 and isinstance(problems[0], LimitError), problems
    assert problems[0].location.line == 4
    assert f"more than {MAX_DEPTH} levels" in problems[0].message
    with pytest.raises(ConfigError):
        load("\n".join(text.splitlines()[3:]).replace("  s: ", "s: "))


def test_flambe_run_refuses_deep_nesting_with_exit_22(tmp_path: Path) -> None:
    config = tmp_path / "deep.yaml"
    config.write_text(deep_nesting(5000))
    proc = subprocess.run(
        [sys.executable, "-m", "flambe.cli", "run", str(config)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 22, (proc.stdout, proc.stderr)
    assert f"{config}:4:" in proc.stderr and f"more than {MAX_DEPTH} levels" in proc.stderr
    assert "RecursionError" not in proc.stderr and "Traceback" not in proc.stderr


def test_depth_made_by_aliases_counts() -> None:
    lines: list[str] = ["a0: &a0 [1]"]
    for i in range(1, MAX_DEPTH + 5):
        lines.append(f"a{i}: &a{i} [*a{i - 1}]")
    text = "\n".join(lines) + "\n"
    problems = validate_text(text, "chain.yaml")
    assert len(problems) == 1 and isinstance(problems[0], LimitError)
    # a{k} is k + 3 levels deep (the root mapping, k + 1 lists, the scalar): a98 is the first
    # past the limit, on line 99
    assert problems[0].location.line == MAX_DEPTH - 1


def test_an_alias_inside_its_own_anchor_is_refused() -> None:
    with pytest.raises(YAMLSyntaxError) as caught:
        load("a: &a [1, *a]\n")
    assert (caught.value.location.line, caught.value.location.column) == (1, 11)
    assert "inside the node" in caught.value.message


def test_a_10_mb_config_validates_quickly() -> None:
    text = big_config(10)
    assert len(text) >= 10 * 2**20
    start = time.process_time()  # this process's own time: other processes may share the CPU
    problems = validate_text(text, "big.yaml")
    seconds = time.process_time() - start
    assert problems == []
    assert seconds < 30, f"{seconds:.1f} s (bench/bench_validate.py measures it; target < 5 s)"


def test_the_limits_are_documented() -> None:
    text = (REPO / "docs" / "components.md").read_text(encoding="utf-8")
    assert f"{MAX_NODES:,}" in text and f"{MAX_DEPTH} levels" in text


def test_without_libyaml_the_same_nodes_and_limits(monkeypatch) -> None:
    from flambe.compile import compose

    text = (
        "base: &b {x: 1, y: [1, 2.5, yes, null, 'q', !!str 3]}\n"
        "other:\n  <<: *b\n  z: !@ base[x]\n  g: !g [1, 2]\n"
    )
    from flambe.compile.yaml import dump

    with_libyaml = dump(load(text))
    monkeypatch.setattr(compose, "_libyaml_events", lambda text: None)
    assert dump(load(text)) == with_libyaml
    problems = validate_text(billion_laughs(), "laughs.yaml")
    assert len(problems) == 1 and isinstance(problems[0], LimitError)
    assert isinstance(validate_text(deep_nesting(300), "deep.yaml")[0], LimitError)
