"""The shape of flambe-core's code: no function over 60 lines in experiment/ and compile/.

Every function is measured with :mod:`ast` (``end_lineno - lineno + 1``, its
decorators left out, its docstring and comments included), methods and
functions nested in functions too. A function over the limit fails the test,
named by file, line, qualified name and length. ``BEING_SPLIT`` lists the long
functions whose split is under way; an entry that no longer names a long
function fails the test too, so the list only shrinks.

The largest module and the longest function of the whole of core are printed
for information.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "packages" / "flambe-core" / "src" / "flambe"
CHECKED = ("experiment", "compile")  # folders of CORE held to the limit
MAX_LINES = 60

# "<folder>/<file>.py:<qualified name>" of a long function whose split is under way.
BEING_SPLIT: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Function:
    """One function (or method) of a module, as measured."""

    path: str  # relative to the package root, with "/" separators
    line: int
    name: str  # qualified: Class.method, outer.inner
    length: int

    @property
    def key(self) -> str:
        """The function's entry in ``BEING_SPLIT``."""
        return f"{self.path}:{self.name}"

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.name} ({self.length} lines)"


def functions_of(source: str, path: str) -> Iterator[Function]:
    """Every function of a module's source, nested ones included, with its length."""
    stack: list[tuple[ast.AST, str]] = [(ast.parse(source), "")]
    while stack:
        node, prefix = stack.pop()
        for child in ast.iter_child_nodes(node):
            name = prefix
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    assert child.end_lineno is not None
                    length = child.end_lineno - child.lineno + 1
                    yield Function(path, child.lineno, name, length)
                name += "."
            stack.append((child, name))


def measure(root: Path, folders: tuple[str, ...] | None = None) -> list[Function]:
    """Every function of the modules under ``root`` (or under its ``folders`` only)."""
    tops = [root / folder for folder in folders] if folders is not None else [root]
    found: list[Function] = []
    for top in tops:
        for file in sorted(top.rglob("*.py")):
            path = file.relative_to(root).as_posix()
            found.extend(functions_of(file.read_text(encoding="utf-8"), path))
    return sorted(found, key=lambda f: (f.path, f.line))


def problems(functions: list[Function], being_split: frozenset[str], limit: int) -> list[str]:
    """The long functions not being split, and the entries of ``being_split`` no longer needed."""
    long = [f for f in functions if f.length > limit]
    out = [f"{f}: over {limit} lines, split it" for f in long if f.key not in being_split]
    still_long = {f.key for f in long}
    out.extend(
        f"{key}: no longer a function over {limit} lines, remove it from BEING_SPLIT"
        for key in sorted(being_split - still_long)
    )
    return out


def test_no_function_over_the_limit_in_experiment_and_compile() -> None:
    found = measure(CORE, CHECKED)
    assert len(found) > 500, "the measure found too few functions: is CORE the package?"
    found_problems = problems(found, BEING_SPLIT, MAX_LINES)
    assert not found_problems, "\n".join(found_problems)


def test_largest_module_and_longest_function_of_core(capsys: pytest.CaptureFixture[str]) -> None:
    modules = {
        file.relative_to(CORE).as_posix(): len(file.read_text(encoding="utf-8").splitlines())
        for file in CORE.rglob("*.py")
    }
    largest = max(modules, key=lambda path: modules[path])
    longest = max(measure(CORE), key=lambda f: f.length)
    checked = max(measure(CORE, CHECKED), key=lambda f: f.length)
    with capsys.disabled():
        print(
            f"\nflambe-core: {len(modules)} modules; largest {largest} ({modules[largest]} lines);"
            f" longest function {longest}; longest in {' and '.join(CHECKED)}: {checked}"
        )
    assert modules[largest] > 0 and longest.length >= checked.length


SAMPLE = """
def short():
    return 1


class Holder:
    @property
    def method(self):
{method_body}

    async def later(self):
        def inner():
{inner_body}
        return inner
"""


def _sample(method_lines: int, inner_lines: int) -> str:
    """A module whose method spans ``method_lines`` lines and nested ``inner`` ``inner_lines``."""
    return SAMPLE.format(
        method_body="\n".join(["        x = 1"] * (method_lines - 2) + ["        return x"]),
        inner_body="\n".join(["            y = 2"] * (inner_lines - 2) + ["            return y"]),
    )


def test_the_measure_counts_methods_and_nested_functions() -> None:
    found = {f.name: f for f in functions_of(_sample(61, 60), "experiment/sample.py")}
    assert {name: f.length for name, f in found.items()} == {
        "short": 2,
        "Holder.method": 61,
        "Holder.later": 62,  # its nested function included
        "Holder.later.inner": 60,
    }
    assert found["Holder.method"].line == 8  # the def, not the decorator
    assert str(found["Holder.method"]) == "experiment/sample.py:8 Holder.method (61 lines)"


def test_a_long_function_fails_and_an_entry_no_longer_needed_fails(tmp_path: Path) -> None:
    (tmp_path / "experiment").mkdir()
    (tmp_path / "experiment" / "sample.py").write_text(_sample(61, 60), encoding="utf-8")
    found = measure(tmp_path, ("experiment",))
    assert problems(found, frozenset(), MAX_LINES) == [
        "experiment/sample.py:8 Holder.method (61 lines): over 60 lines, split it",
        "experiment/sample.py:70 Holder.later (62 lines): over 60 lines, split it",
    ]
    being_split = frozenset({"experiment/sample.py:Holder.method", "experiment/sample.py:short"})
    assert problems(found, being_split, MAX_LINES) == [
        "experiment/sample.py:70 Holder.later (62 lines): over 60 lines, split it",
        "experiment/sample.py:short: no longer a function over 60 lines, remove it from "
        "BEING_SPLIT",
    ]
    (tmp_path / "experiment" / "sample.py").write_text(_sample(60, 58), encoding="utf-8")
    assert problems(measure(tmp_path, ("experiment",)), frozenset(), MAX_LINES) == []
