"""Checking a config without running it: every problem is collected, each with its place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flambe.compile.component import Component
from flambe.compile.validate import check, validate_file, validate_text
from flambe.compile.yaml import load
from flambe.errors import (
    ArgumentError,
    ExtensionError,
    FlambeError,
    LinkError,
    MalformedLinkError,
    UnknownTagError,
    UnpreparedLinkError,
    YAMLSyntaxError,
)

BUILT: list[Any] = []


class VaThing(Component):
    def __init__(self, alpha: int = 0, beta: Any = None) -> None:
        BUILT.append(self)


class VaNeeds(Component):
    def __init__(self, needed: int) -> None:
        BUILT.append(self)


MANY_PROBLEMS = """\
first: !VaThing
  alpha: !@ second.alpha
  gama: 3
second: !VaThingg {}
third: !VaThing
  beta: !@ a]b
  alpha: !@ nowhere
fourth: !VaThing
  beta:
    - !VaThing {zeta: 1}
    - !VaNeeds {}
"""


def _summary(errors: list[FlambeError]) -> list[tuple[str, int, int]]:
    return sorted((type(e).__name__, e.location.line, e.location.column) for e in errors)


def test_every_problem_is_reported_with_its_place() -> None:
    errors = validate_text(MANY_PROBLEMS, "v.yaml")
    assert all(e.location.file == "v.yaml" for e in errors)
    assert _summary(errors) == sorted(
        [
            ("UnpreparedLinkError", 2, 10),  # link to a later stage
            ("ArgumentError", 3, 9),  # gama
            ("UnknownTagError", 4, 9),  # VaThingg
            ("MalformedLinkError", 6, 9),  # a]b
            ("LinkError", 7, 10),  # nothing named 'nowhere'
            ("ArgumentError", 10, 23),  # zeta, inside a list
            ("ArgumentError", 11, 7),  # needed is missing
        ]
    )
    by_type = {type(e): e for e in errors}
    assert "'!VaThing'" in by_type[UnknownTagError].hint
    assert "second" in by_type[UnpreparedLinkError].message
    assert "a]b" in by_type[MalformedLinkError].message
    assert "nowhere" in by_type[LinkError].message
    assert BUILT == []  # nothing was built


def test_unknown_link_keys_are_reported() -> None:
    text = "a: !VaThing\n  beta: {x: 1}\nb: !VaThing\n  alpha: !@ a[beta][y]\n  beta: !@ a[gamma]\n"
    errors = validate_text(text, "k.yaml")
    assert _summary(errors) == [("LinkError", 4, 10), ("LinkError", 5, 9)]
    assert all("Check all !@ entries" in e.message for e in errors)


def test_valid_config_has_no_problems() -> None:
    text = "first: !VaThing {alpha: 1}\nsecond: !VaThing\n  beta: !@ first.alpha\n"
    assert validate_text(text, "ok.yaml") == []
    assert BUILT == []


def test_syntax_error_is_the_only_problem() -> None:
    errors = validate_text("first: !VaThing\n  alpha: [1\n", "s.yaml")
    assert len(errors) == 1 and isinstance(errors[0], YAMLSyntaxError)
    assert errors[0].location.file == "s.yaml"


def test_missing_extension_is_reported_at_its_header_line() -> None:
    text = "torch: torch\nva_no_such_module_xyz: ./nowhere_xyz\n---\n!VaThing {gamma: 1}\n"
    errors = validate_text(text, "e.yaml")
    assert _summary(errors) == [("ArgumentError", 4, 18), ("ExtensionError", 2, 1)]
    extension_error = next(e for e in errors if isinstance(e, ExtensionError))
    assert "va_no_such_module_xyz" in extension_error.message


def test_validate_file(tmp_path: Path) -> None:
    path = tmp_path / "conf.yaml"
    path.write_text("!VaThing\nalpha: 1\nbeta: !VaThinng {}\n")
    errors = validate_file(str(path))
    assert len(errors) == 1 and isinstance(errors[0], UnknownTagError)
    assert str(errors[0].location) == f"{path}:3:7"


def test_check_on_loaded_config() -> None:
    root = load("a: !VaThing {alpha: 1}\nb: !VaThing\n  alpha: !@ a.alpha\n  delta: 2\n")
    errors = check(root)
    assert len(errors) == 1 and isinstance(errors[0], ArgumentError)
    assert "delta" in errors[0].message
    assert BUILT == []


def setup_function() -> None:
    BUILT.clear()
