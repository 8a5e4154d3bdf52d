"""Bad configs: every error is a FlambeError that names file, line and column, with a hint."""

from __future__ import annotations

import abc
from typing import Any

import pytest

from flambe.compile import yaml
from flambe.compile.component import Component
from flambe.compile.link import Link
from flambe.compile.registrable import MappedRegistrable
from flambe.compile.schema import Schema
from flambe.errors import (
    ArgumentError,
    CompilationError,
    ConfigError,
    FlambeError,
    LinkError,
    MalformedLinkError,
    UnknownTagError,
    UnpreparedLinkError,
    YAMLSyntaxError,
)


class CeThing(Component):
    def __init__(self, alpha: int = 0, beta: Any = None) -> None:
        self.alpha = alpha
        self.beta = beta


class CeRequired(Component):
    def __init__(self, needed: int, optional: int = 2) -> None:
        self.needed = needed


class CeAbstract(Component):
    @abc.abstractmethod
    def forward(self) -> None: ...


class CeMappedAbstract(MappedRegistrable):
    @abc.abstractmethod
    def go(self) -> None: ...


class CeMapped(MappedRegistrable):
    def __init__(self, a: int = 0) -> None:
        self.a = a


class CeBroken(Component):
    def __init__(self, x: int = 0) -> None:
        raise ValueError(f"x={x} is not allowed")


def load_and_compile(text: str, file: str = "bad.yaml") -> Any:
    """Load a config and compile every schema of it, stage by stage."""
    root = yaml.load(text, file=file)
    if isinstance(root, dict):
        return {k: v() if isinstance(v, (Schema, Link)) else v for k, v in root.items()}
    return root() if isinstance(root, Schema) else root


# (config, error class, (line, column), words expected in message + hint)
CASES = {
    "unknown tag": ("!CeThingg {alpha: 1}\n", UnknownTagError, (1, 1), ["!CeThingg", "!CeThing"]),
    "unknown nested tag": (
        "!CeThing\nbeta:\n  - 1\n  - !CeThinng {}\n",
        UnknownTagError,
        (4, 5),
        ["!CeThinng"],
    ),
    "unknown factory": ("!CeThing.nope {}\n", UnknownTagError, (1, 1), ["nope", "load_from_path"]),
    "malformed link": (
        "a: 1\nb: !CeThing\n  alpha: !@ a]x[\n",
        MalformedLinkError,
        (3, 10),
        ["a]x["],
    ),
    "empty link": ("a: 1\nb: !CeThing\n  alpha: !@\n", MalformedLinkError, (3, 10), ["link"]),
    "link given a list": (
        "a: 1\nb: !CeThing\n  alpha: !@ [a]\n",
        ConfigError,
        (3, 10),
        ["single value"],
    ),
    "link to a later stage": (
        "first: !CeThing\n  alpha: !@ second.alpha\nsecond: !CeThing {}\n",
        UnpreparedLinkError,
        (2, 10),
        ["second", "backwards"],
    ),
    "link to a later sibling": (
        "s: !CeThing\n  alpha: !CeThing\n    beta: !@ s[beta]\n  beta: 3\n",
        UnpreparedLinkError,
        (3, 11),
        ["s[beta]"],
    ),
    "link to own parent": (
        "s: !CeThing\n  beta: !CeThing\n    beta: !CeThing\n      alpha: !@ s[beta][beta]\n",
        UnpreparedLinkError,
        (4, 14),
        ["parent"],
    ),
    "link to unbound root": (
        "!CeThing\nalpha: !@ nowhere.x\n",
        UnpreparedLinkError,
        (2, 8),
        ["nowhere"],
    ),
    "link to missing key": (
        "a: !CeThing {}\nb: !CeThing\n  alpha: !@ a[gamma]\n",
        LinkError,
        (3, 10),
        ["gamma", "Check all !@ entries"],
    ),
    "link to missing attribute": (
        "a: !CeThing {}\nb: !CeThing\n  alpha: !@ a.gamma\n",
        LinkError,
        (3, 10),
        ["gamma"],
    ),
    "link past end of list": (
        "a: !CeThing {beta: [1, 2]}\nb: !CeThing\n  alpha: !@ a[beta][5]\n",
        LinkError,
        (3, 10),
        ["5"],
    ),
    "unknown argument": (
        "!CeThing\nalpha: 1\ngamma: 2\n",
        ArgumentError,
        (3, 8),
        ["gamma", "accepted: alpha, beta"],
    ),
    "misspelt argument": ("!CeThing\nalpah: 1\n", ArgumentError, (2, 8), ["did you mean 'alpha'"]),
    "missing argument": (
        "x: 0\ny: !CeRequired\n  optional: 1\n",
        ArgumentError,
        (2, 4),
        ["needed", "accepted: needed, optional"],
    ),
    "torch argument": (
        "!torch.Linear {in_features: 2, out_feature: 3}\n",
        ArgumentError,
        (1, 45),
        ["out_feature", "out_features"],
    ),
    "abstract component": (
        "a: 1\nb: !CeAbstract {}\n",
        ConfigError,
        (2, 4),
        ["abstract", "forward"],
    ),
    "abstract mapped registrable": ("!CeMappedAbstract {}\n", ConfigError, (1, 1), ["abstract"]),
    "mapped registrable argument": ("!CeMapped {b: 1}\n", ArgumentError, (1, 1), ["CeMapped"]),
    "constructor failure": (
        "!CeBroken {x: 3}\n",
        CompilationError,
        (1, 1),
        ["x=3 is not allowed", "CeBroken"],
    ),
    "list after component tag": ("!CeThing [1, 2]\n", ConfigError, (1, 1), ["mapping"]),
    "non-string argument name": ("!CeThing {1: 2}\n", ConfigError, (1, 1), ["strings"]),
    "duplicate key": (
        "!CeThing\nalpha: 1\nbeta: 2\nalpha: 3\n",
        ConfigError,
        (4, 1),
        ["duplicate", "alpha"],
    ),
    "invalid yaml": (
        "!CeThing\nalpha: [1, 2\nbeta: 3\n",
        YAMLSyntaxError,
        (3, 5),
        ["invalid YAML"],
    ),
    "tab indentation": ("!CeThing\nalpha:\n\t- 1\n", YAMLSyntaxError, (3, 1), ["invalid YAML"]),
    "undefined alias": ("!CeThing\nalpha: *nothing\n", YAMLSyntaxError, (2, 8), ["nothing"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config(case: str) -> None:
    text, error_class, (line, column), words = CASES[case]
    with pytest.raises(FlambeError) as info:
        load_and_compile(text)
    error = info.value
    assert isinstance(error, error_class), f"{type(error).__name__}: {error}"
    assert error.location is not None, str(error)
    assert (error.location.file, error.location.line, error.location.column) == (
        "bad.yaml",
        line,
        column,
    ), str(error)
    rendered = str(error)
    assert rendered.startswith(f"bad.yaml:{line}:{column}: ")
    for word in words:
        assert word in rendered, rendered


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_config_errors_are_never_bare(case: str) -> None:
    text = CASES[case][0]
    try:
        load_and_compile(text)
    except FlambeError as exc:
        assert not isinstance(exc, (KeyError, AttributeError, TypeError, ValueError, IndexError))
    except Exception as exc:  # pragma: no cover - the failure being tested for
        pytest.fail(f"{case}: bare {type(exc).__name__}: {exc}")
    else:  # pragma: no cover
        pytest.fail(f"{case}: no error")


@pytest.mark.parametrize(
    "case",
    [
        "unknown argument",
        "missing argument",
        "unknown tag",
        "link to a later stage",
        "duplicate key",
        "invalid yaml",
    ],
)
def test_bad_config_errors_have_hints(case: str) -> None:
    with pytest.raises(FlambeError) as info:
        load_and_compile(CASES[case][0])
    assert info.value.hint
    assert "\n  hint: " in str(info.value)


def test_error_of_nested_schema_points_at_nested_place() -> None:
    text = "!CeThing\nbeta:\n  inner: !CeRequired\n    optional: 3\n"
    with pytest.raises(ArgumentError) as info:
        load_and_compile(text)
    assert (info.value.location.line, info.value.location.column) == (3, 10)


def test_error_location_survives_reraise_through_parents() -> None:
    text = "!CeThing\nbeta: !CeThing\n  beta: !CeBroken {x: 1}\n"
    with pytest.raises(CompilationError) as info:
        load_and_compile(text)
    assert (info.value.location.line, info.value.location.column) == (3, 9)


def _location(error: FlambeError) -> tuple[int, int] | None:
    return None if error.location is None else (error.location.line, error.location.column)


def test_schema_built_in_python_reports_errors_without_location() -> None:
    with pytest.raises(ArgumentError) as info:
        Schema(CeThing, gamma=1)()
    assert _location(info.value) is None
    assert "gamma" in info.value.message and "alpha" in info.value.hint


def test_bad_config_errors_are_config_errors() -> None:
    for error_class in {c for _, c, _, _ in CASES.values()}:
        assert issubclass(error_class, ConfigError)
