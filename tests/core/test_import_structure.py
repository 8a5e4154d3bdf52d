"""The import structure of flambe-core: every module imports on its own, and no circles.

The import graph is read from the source with :mod:`ast`. Imports inside
functions count (a circle held together by an import inside a function is
still a circle); imports under ``if TYPE_CHECKING:`` do not, since they never
run. Importing ``a.b.c`` also imports the packages ``a`` and ``a.b``, but
those implicit edges are not counted: a package's ``__init__`` resolves its
public names lazily.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import flambe.compile

SOURCE = Path(flambe.compile.__file__).resolve().parents[2]  # .../flambe-core/src
# modules that run a program when imported (``python -m flambe.cli``): never imported here
NOT_IMPORTABLE = frozenset({"flambe.cli.__main__"})


def core_modules() -> dict[str, tuple[Path, bool]]:
    """Map every module of flambe-core to its file and whether it is a package."""
    found: dict[str, tuple[Path, bool]] = {}
    for path in sorted((SOURCE / "flambe").rglob("*.py")):
        parts = list(path.relative_to(SOURCE).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        found[".".join(parts)] = (path, is_package)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement of a module, at any depth, except under ``if TYPE_CHECKING:``."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _targets(
    module: str, is_package: bool, node: ast.Import | ast.ImportFrom, known: set[str]
) -> set[str]:
    """The core modules one import statement imports."""
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            prefix = ".".join(base + ([node.module] if node.module else []))
        else:
            prefix = node.module or ""
        for alias in node.names:
            candidate = f"{prefix}.{alias.name}"
            names.append(candidate if candidate in known else prefix)
    targets = set()
    for name in names:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name and name != module:
            targets.add(name)
    return targets


def import_graph() -> dict[str, set[str]]:
    """Module -> the core modules it imports (at module level or inside functions)."""
    modules = core_modules()
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        graph[name] = set()
        for node in _imports(tree):
            graph[name] |= _targets(name, is_package, node, known)
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or not (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(sorted(group))
    return groups


def a_circle(graph: dict[str, set[str]], group: list[str]) -> list[str]:
    """One shortest circle through the first module of ``group`` (start repeated at the end)."""
    start, members = group[0], set(group)
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph[node] & members):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if nxt not in previous:
                previous[nxt] = node
                queue.append(nxt)
    return group  # pragma: no cover - a strongly connected group always has a circle


def test_core_has_no_import_circle() -> None:
    graph = import_graph()
    circles = [" -> ".join(a_circle(graph, group)) for group in strongly_connected(graph)]
    assert not circles, "import circles among flambe-core's modules:\n" + "\n".join(circles)


def test_the_graph_sees_imports_inside_functions_but_not_type_checking_ones() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "import flambe.compile.registry\n"
        "if TYPE_CHECKING:\n"
        "    from flambe.compile.component import Component\n"
        "def f():\n"
        "    from flambe.compile import yaml\n"
        "    from .schema import Schema\n"
    )
    known = set(core_modules())
    found: set[str] = set()
    for node in _imports(ast.parse(source)):
        found |= _targets("flambe.compile.link", False, node, known)
    assert found == {"flambe.compile.registry", "flambe.compile.yaml", "flambe.compile.schema"}
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert strongly_connected(graph) == [["a", "b", "c"]]
    assert a_circle(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]


_IMPORT_EACH = """
import importlib, json, sys, traceback
failures = {}
for name in json.loads(sys.argv[1]):
    for loaded in [m for m in sys.modules if m == "flambe" or m.startswith("flambe.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except BaseException:
        failures[name] = traceback.format_exc(limit=-3)
print(json.dumps(failures))
"""


def test_every_core_module_imports_on_its_own() -> None:
    """Each module first, in a process where no other flambe module is loaded."""
    names = sorted(set(core_modules()) - NOT_IMPORTABLE)
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_EACH, json.dumps(names)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    failures = json.loads(done.stdout.strip().splitlines()[-1])
    assert not failures, "\n".join(f"{name}:\n{error}" for name, error in failures.items())


def test_a_config_naming_a_plain_class_loads_with_only_the_yaml_module_imported() -> None:
    """The registry wraps ``torch.nn.Linear`` without anything having imported components."""
    code = (
        "import sys\n"
        "from flambe.compile.yaml import load\n"
        "assert 'flambe.compile.component' not in sys.modules\n"
        "linear = load('!torch.nn.Linear {in_features: 2, out_features: 3}')()\n"
        "print(type(linear).__mro__[1].__name__, linear.out_features)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["Component", "3"]
