"""Search options: !g, !s and the distributions (E6-E10, §10 item 3). Pure, no Ray."""

from __future__ import annotations

import numpy as np
import pytest

from flambe.compile import yaml
from flambe.errors import ConfigError
from flambe.experiment.options import (
    ChoiceDistribution,
    GridSearchOptions,
    IntegerDistribution,
    LogUniformDistribution,
    SampledUniformSearchOptions,
    UniformDistribution,
    is_option,
)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# -- !g -----------------------------------------------------------------------------------


def test_grid_loads_as_a_sequence_of_its_elements() -> None:
    option = yaml.load("!g [1, 2.5, x, null]")
    assert isinstance(option, GridSearchOptions) and is_option(option)
    assert list(option) == [1, 2.5, "x", None]
    assert option.grid(rng()) == [1, 2.5, "x", None]
    assert len(option) == 4 and option[1] == 2.5
    assert repr(option) == "gridoptions([1, 2.5, 'x', None])"
    assert yaml.load("!GridSearchOptions [1, 2]").elements == [1, 2]


def test_grid_dumps_back_as_written() -> None:
    text = yaml.dump({"a": yaml.load("!g [1, 2, 3]")})
    assert text.strip() == "a: !g [1, 2, 3]"
    assert yaml.load(text)["a"].elements == [1, 2, 3]


@pytest.mark.parametrize("text", ["!g []", "!g {a: 1}", "!g 3"])
def test_grid_needs_a_non_empty_list(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        yaml.load(f"x: 1\ny: {text}\n", file="conf.yaml")
    assert info.value.location.file == "conf.yaml" and info.value.location.line == 2


# -- !s -----------------------------------------------------------------------------------


def test_integer_sampling_includes_the_upper_bound() -> None:
    # §10 item 3: the docs say "from 1 to 10"; numpy's randint excluded 10
    option = SampledUniformSearchOptions(1, 3, 200)
    values = option.draw(rng(1))
    assert all(isinstance(v, int) for v in values)
    assert set(values) == {1, 2, 3}


def test_float_sampling_and_rounding() -> None:
    for low, high in [(1, 10.1), (1.1, 10.1), (1.1, 10)]:
        values = SampledUniformSearchOptions(low, high, 20).draw(rng())
        assert all(isinstance(v, float) and low <= v <= high for v in values)
    values = SampledUniformSearchOptions(1, 10.1, 50, 2).draw(rng())
    assert all(round(v, 2) == v for v in values)
    assert any(round(v, 1) != v for v in values)  # really two decimals, not fewer


def test_sampling_is_seedable_and_drawn_once() -> None:
    a = SampledUniformSearchOptions(0.0, 1.0, 5)
    b = SampledUniformSearchOptions(0.0, 1.0, 5)
    assert a.draw(rng(7)) == b.draw(rng(7))
    assert a.draw(rng(8)) == b.values  # drawn once: a later call returns the same values
    assert SampledUniformSearchOptions(0.0, 1.0, 5).draw(rng(9)) != b.values
    assert a.grid(rng(9)) == a.values


def test_sampled_options_dump_as_the_values_drawn() -> None:
    config = yaml.load("a: !s [1, 10, 4]\nb: !s [0.5, 1.5, 2, 2]\n")
    # not drawn yet: dumped as written
    assert yaml.dump(config).splitlines() == ["a: !s [1, 10, 4]", "b: !s [0.5, 1.5, 2, 2]"]
    drawn = config["a"].draw(rng(3))
    text = yaml.dump(config)
    assert text.splitlines()[0] == f"a: !g [{', '.join(map(str, drawn))}]"
    again = yaml.load(text)
    assert isinstance(again["a"], GridSearchOptions) and again["a"].elements == drawn


@pytest.mark.parametrize(
    "text,needle",
    [
        ("!s [1, 10]", "got 2 values"),  # §10 item 3: 2 args were a TypeError
        ("!s [1]", "got 1 values"),
        ("!s [1, 10.1, 5, 1, 1]", "got 5 values"),
        ("!s [1, 10, 0]", "k >= 1"),
        ("!s [10, 1, 2]", "empty"),
        ("!s [a, 1, 2]", "numbers"),
        ("!s {low: 1}", "takes a list"),
    ],
)
def test_bad_sampled_options_are_config_errors_with_a_place(text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        yaml.load(f"model:\n  width: {text}\n", file="exp.yaml")
    assert needle in str(info.value)
    assert info.value.location.file == "exp.yaml" and info.value.location.line == 2


def test_sampled_repr() -> None:
    assert repr(yaml.load("!s [1, 10, 5]")) == "randomoptions([1, 10, 5])"
    assert isinstance(
        yaml.load("!SampledUniformSearchOptions [1, 2, 1]"), SampledUniformSearchOptions
    )


# -- distributions --------------------------------------------------------------------------


def test_distributions_sample_within_their_bounds() -> None:
    r = rng(4)
    uniform = yaml.load("!uniform [0.1, 0.5]")
    assert isinstance(uniform, UniformDistribution)
    assert all(0.1 <= uniform.sample(r) <= 0.5 for _ in range(50))
    log = yaml.load("!loguniform [0.0001, 0.1]")
    assert isinstance(log, LogUniformDistribution)
    samples = [log.sample(r) for _ in range(400)]
    assert all(1e-4 <= s <= 0.1 for s in samples)
    # log-uniform: about a third of the samples per decade
    assert 0.2 < sum(s < 1e-3 for s in samples) / len(samples) < 0.45
    randint = yaml.load("!randint [1, 3]")
    assert isinstance(randint, IntegerDistribution)
    assert {randint.sample(r) for _ in range(100)} == {1, 2, 3}  # both ends included
    choice = yaml.load("!choice [relu, tanh, 3]")
    assert isinstance(choice, ChoiceDistribution)
    assert {choice.sample(r) for _ in range(100)} == {"relu", "tanh", 3}


def test_distributions_dump_back_as_written() -> None:
    text = (
        "a: !uniform [0.1, 0.5]\nb: !loguniform [0.001, 0.1]\nc: !randint [1, 4]\n"
        "d: !choice [relu, tanh]\n"
    )
    assert yaml.dump(yaml.load(text)) == text


@pytest.mark.parametrize(
    "text,needle",
    [
        ("!uniform [1]", "takes [low, high]"),
        ("!uniform [2, 1]", "empty range"),
        ("!loguniform [0, 1]", "positive"),
        ("!randint [1.5, 3]", "integers"),
        ("!choice []", "at least one"),
    ],
)
def test_bad_distributions_are_config_errors(text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        yaml.load(f"x: {text}\n", file="d.yaml")
    assert needle in str(info.value) and info.value.location.line == 1


def test_distributions_convert_to_tune_spaces() -> None:
    from ray import tune

    assert isinstance(UniformDistribution(0.1, 0.5).to_tune(), tune.search.sample.Float)
    assert isinstance(LogUniformDistribution(0.1, 0.5).to_tune(), tune.search.sample.Float)
    integer = IntegerDistribution(1, 3).to_tune()
    assert integer.lower == 1 and integer.upper == 4  # Tune's upper bound is exclusive
    assert ChoiceDistribution("a", "b").to_tune().categories == [0, 1]
