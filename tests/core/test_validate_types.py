"""Values whose declared type is plainly wrong are found before anything is built."""

from __future__ import annotations

from typing import Any, Literal

import pytest

from flambe.compile.component import Component
from flambe.compile.validate import validate_text
from flambe.errors import ArgumentError

BUILT: list[Any] = []


class TyModel(Component):
    def __init__(
        self,
        hidden_size: int,
        rate: float = 0.1,
        name: str | None = None,
        mode: Literal["sum", "mean"] = "sum",
        sizes: list[int] = None,
        table: dict[str, int] = None,
        flag: bool = False,
        either: int | str = 0,
        other: TyModel = None,
        anything: Any = None,
        legacy: int = None,
    ) -> None:
        BUILT.append(self)


def _problems(body: str) -> list[str]:
    errors = validate_text(f"!TyModel\n{body}", "t.yaml")
    assert all(isinstance(e, ArgumentError) for e in errors), errors
    return [f"{e.location.line}:{e.location.column}: {e.message}" for e in errors]


@pytest.mark.parametrize(
    "body, expected",
    [
        (
            "hidden_size: eight\n",
            "2:14: !TyModel argument 'hidden_size' expects int, got 'eight' (a string)",
        ),
        ("hidden_size: 8.5\n", "2:14: !TyModel argument 'hidden_size' expects int, got 8.5"),
        ("hidden_size: 8\nrate: fast\n", "3:7: !TyModel argument 'rate' expects float, got 'fast'"),
        ("hidden_size: 8\nname: 3\n", "3:7: !TyModel argument 'name' expects str or null, got 3"),
        (
            "hidden_size: 8\nmode: max\n",
            "3:7: !TyModel argument 'mode' expects one of 'sum', 'mean', got 'max'",
        ),
        ("hidden_size: 8\nsizes: 3\n", "3:8: !TyModel argument 'sizes' expects list[int], got 3"),
        (
            "hidden_size: 8\ntable: [1]\n",
            "3:8: !TyModel argument 'table' expects dict[str, int], got a list",
        ),
        (
            "hidden_size: !g [8, sixteen]\n",
            "2:14: !TyModel argument 'hidden_size' expects int, got 'sixteen'",
        ),
        (
            "hidden_size: !choice [8, x]\n",
            "2:14: !TyModel argument 'hidden_size' expects int, got 'x'",
        ),
        (
            "hidden_size: !s [0.5, 4.5, 3]\n",
            "2:14: !TyModel argument 'hidden_size' expects int, got 0.5",
        ),
        # a component or module is written with its tag: a plain value never is one
        (
            "hidden_size: 8\nother: last\n",
            "3:8: !TyModel argument 'other' expects TyModel, got 'last' (a string)",
        ),
        (
            "hidden_size: 8\nother: {hidden_size: 2}\n",
            "3:8: !TyModel argument 'other' expects TyModel, got a mapping",
        ),
    ],
)
def test_a_plainly_wrong_value_is_reported_at_its_place(body: str, expected: str) -> None:
    problems = _problems(body)
    assert len(problems) == 1 and problems[0].startswith(expected), problems
    assert BUILT == []


def test_values_that_may_fit_are_accepted() -> None:
    assert (
        _problems(
            "hidden_size: 8\nrate: 1\nname: null\nmode: mean\nsizes: [1, 2]\n"
            "table: {a: 1}\nflag: true\neither: text\nanything: [1, x]\n"
            "legacy: null\nother: !TyModel {hidden_size: 2}\n"
        )
        == []
    )
    # links and components are known only once built
    assert _problems("hidden_size: 8\nsizes: [1]\n") == []
    text = "a: !TyModel {hidden_size: 2}\nb: !TyModel\n  hidden_size: !@ a.hidden_size\n"
    assert validate_text(text, "l.yaml") == []


def test_a_misspelled_key_whose_value_is_a_grid_says_so() -> None:
    problems = _problems("hiden_size: !g [8, 16]\n")
    assert problems[0].startswith(
        "2:13: !TyModel got an unknown argument 'hiden_size' (its "
        "value is a !g search over 2 values"
    )
    errors = validate_text("!TyModel\nhiden_size: !g [8, 16]\n", "t.yaml")
    assert "did you mean 'hidden_size'?" in errors[0].hint


def setup_function() -> None:
    BUILT.clear()
