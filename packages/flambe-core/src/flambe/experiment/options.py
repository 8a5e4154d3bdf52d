"""Search options: the ``!g``, ``!s`` and distribution tags of an experiment.

* ``!g [a, b, c]`` tries every element (grid search). Elements may be
  values, components (each with options of its own: conditional spaces) or
  links.
* ``!s [low, high, k]`` / ``!s [low, high, k, decimals]`` draws k values
  once, uniformly in ``[low, high]`` (integers when both bounds are
  integers, the upper bound included), then behaves like ``!g`` over them.
  A config dumped after drawing writes ``!g [the values drawn]``.
* ``!uniform [low, high]``, ``!loguniform [low, high]``,
  ``!randint [low, high]`` (both ends included) and ``!choice [a, b, ...]``
  are distributions for random search: each of a stage's ``num_samples``
  samples draws one value; with a ``search:`` algorithm the algorithm
  proposes the values instead.

Drawing uses the experiment's seed, so a run is reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from numbers import Number
from typing import Any

from flambe.compile.registrable import Registrable, alias
from flambe.errors import ConfigError, SourceLocation


class SearchOption(Registrable, should_register=False):
    """Base of every search option; a config leaf that stands for several values."""

    _flambe_option = True
    _source: SourceLocation | None = None
    _created_with_tag: str | None = None

    def _flambe_children(self) -> Iterator[tuple[int, Any]]:
        return iter(())

    @classmethod
    def _sequence(cls, constructor: Any, node: Any) -> list[Any]:
        from ruamel.yaml.nodes import SequenceNode

        if not isinstance(node, SequenceNode):
            raise ConfigError(
                f"{node.tag} takes a list, e.g. {node.tag} [1, 2, 3]", constructor.location(node)
            )
        return list(constructor.construct_sequence(node))


@alias("g")
class GridSearchOptions(SearchOption, Sequence[Any]):
    """Try every element (``!g [a, b, c]``).

    Parameters
    ----------
    elements : sequence
        Values, components or links to try.

    """

    def __init__(self, elements: Sequence[Any]) -> None:
        self.elements = list(elements)
        if not self.elements:
            raise ConfigError("!g needs at least one element", self._source)

    def __getitem__(self, index: Any) -> Any:
        return self.elements[index]

    def __len__(self) -> int:
        return len(self.elements)

    def __repr__(self) -> str:
        return f"gridoptions({self.elements!r})"

    def _flambe_children(self) -> Iterator[tuple[int, Any]]:
        return iter(enumerate(self.elements))

    def grid(self, rng: Any) -> list[Any]:
        """The values to try."""
        return self.elements

    @classmethod
    def from_yaml(cls, constructor: Any, node: Any, factory_name: str | None) -> GridSearchOptions:
        """Build the option from its YAML node."""
        elements = cls._sequence(constructor, node)
        if not elements:
            raise ConfigError(f"{node.tag} needs at least one element", constructor.location(node))
        return cls(elements)

    @classmethod
    def to_yaml(cls, representer: Any, node: GridSearchOptions, tag: str) -> Any:
        """Write the option back as its YAML tag."""
        seq = representer.represent_sequence(tag, node.elements)
        seq.flow_style = all(not hasattr(e, "keywords") for e in node.elements)
        return seq


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@alias("s")
class SampledUniformSearchOptions(SearchOption):
    """Draw ``k`` values from ``[low, high]`` once, then try each (``!s [low, high, k]``).

    Parameters
    ----------
    low, high : number
        The range; integers when both are integers (``high`` included).
    k : int
        How many values to draw (at least 1).
    decimals : int
        Rounding of float values.

    """

    def __init__(self, low: Number, high: Number, k: int, decimals: int = 10) -> None:
        if not all(isinstance(v, Number) and not isinstance(v, bool) for v in (low, high)):
            raise ConfigError("!s needs numbers: !s [low, high, k]", self._source)
        if int(k) < 1:
            raise ConfigError(f"!s draws k >= 1 values, got k={k}", self._source)
        if float(high) < float(low):  # type: ignore[arg-type]
            raise ConfigError(f"!s range is empty: low {low} > high {high}", self._source)
        self.low, self.high, self.k, self.decimals = low, high, int(k), int(decimals)
        self.values: list[Any] | None = None

    def __repr__(self) -> str:
        return f"randomoptions([{self.low}, {self.high}, {self.k}])"

    def draw(self, rng: Any) -> list[Any]:
        """Draw the values (once: later calls return the same values)."""
        if self.values is None:
            if _is_int(self.low) and _is_int(self.high):
                self.values = [
                    int(v) for v in rng.integers(self.low, self.high, size=self.k, endpoint=True)
                ]
            else:
                self.values = [
                    round(float(v), self.decimals)
                    for v in rng.uniform(self.low, self.high, size=self.k)
                ]
        return self.values

    grid = draw

    @classmethod
    def from_yaml(
        cls, constructor: Any, node: Any, factory_name: str | None
    ) -> SampledUniformSearchOptions:
        """Build the option from its YAML node."""
        items = cls._sequence(constructor, node)
        if not 3 <= len(items) <= 4:
            raise ConfigError(
                f"!s takes [low, high, k] or [low, high, k, decimals], got {len(items)} values",
                constructor.location(node),
                hint="e.g. !s [1, 10, 5] draws 5 integers from 1 to 10",
            )
        return cls(*items)

    @classmethod
    def to_yaml(cls, representer: Any, node: SampledUniformSearchOptions, tag: str) -> Any:
        """Write the option back as its YAML tag."""
        if node.values is not None:  # what was drawn, so a rerun is the same experiment
            seq = representer.represent_sequence("!g", node.values)
        else:
            args = [node.low, node.high, node.k] + ([node.decimals] if node.decimals != 10 else [])
            seq = representer.represent_sequence(tag, args)
        seq.flow_style = True
        return seq


class Distribution(SearchOption, should_register=False):
    """A distribution a random sample draws one value from."""

    arity = 2

    def __init__(self, *args: Any) -> None:
        self.args = list(args)

    def __repr__(self) -> str:
        return f"{type(self).__name__.lower()}({self.args})"

    def sample(self, rng: Any) -> Any:  # pragma: no cover - abstract
        """Draw one value with ``rng`` (a NumPy generator)."""
        raise NotImplementedError

    def to_tune(self) -> Any:  # pragma: no cover - abstract
        """Return the Ray Tune domain of this distribution."""
        raise NotImplementedError

    @classmethod
    def from_yaml(cls, constructor: Any, node: Any, factory_name: str | None) -> Distribution:
        """Build the option from its YAML node."""
        items = cls._sequence(constructor, node)
        if cls.arity and len(items) != cls.arity:
            raise ConfigError(
                f"{node.tag} takes [low, high], got {len(items)} values", constructor.location(node)
            )
        try:
            return cls(*items)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{node.tag}: {exc}", constructor.location(node)) from None

    @classmethod
    def to_yaml(cls, representer: Any, node: Distribution, tag: str) -> Any:
        """Write the option back as its YAML tag."""
        seq = representer.represent_sequence(tag, node.args)
        seq.flow_style = True
        return seq


def _bounds(low: Any, high: Any, positive: bool = False) -> tuple[float, float]:
    if not all(isinstance(v, Number) and not isinstance(v, bool) for v in (low, high)):
        raise ValueError("bounds must be numbers")
    if high < low:
        raise ValueError(f"empty range: low {low} > high {high}")
    if positive and low <= 0:
        raise ValueError("log-uniform bounds must be positive")
    return float(low), float(high)


@alias("uniform")
class UniformDistribution(Distribution):
    """A float drawn uniformly from ``[low, high]`` (``!uniform [0.1, 0.5]``)."""

    def __init__(self, low: Number, high: Number) -> None:
        _bounds(low, high)
        super().__init__(low, high)

    def sample(self, rng: Any) -> float:
        """Draw one value with ``rng`` (a NumPy generator)."""
        return float(rng.uniform(self.args[0], self.args[1]))

    def to_tune(self) -> Any:
        """Return the Ray Tune domain of this distribution."""
        from ray import tune

        return tune.uniform(*self.args)


@alias("loguniform")
class LogUniformDistribution(Distribution):
    """A float whose logarithm is uniform in ``[log low, log high]``.

    Written ``!loguniform [1e-4, 1e-1]``.
    """

    def __init__(self, low: Number, high: Number) -> None:
        _bounds(low, high, positive=True)
        super().__init__(low, high)

    def sample(self, rng: Any) -> float:
        """Draw one value with ``rng`` (a NumPy generator)."""
        return float(math.exp(rng.uniform(math.log(self.args[0]), math.log(self.args[1]))))

    def to_tune(self) -> Any:
        """Return the Ray Tune domain of this distribution."""
        from ray import tune

        return tune.loguniform(*self.args)


@alias("randint")
class IntegerDistribution(Distribution):
    """An integer drawn uniformly from ``[low, high]``, both included (``!randint [1, 4]``)."""

    def __init__(self, low: int, high: int) -> None:
        if not (_is_int(low) and _is_int(high)):
            raise ValueError("!randint bounds must be integers")
        _bounds(low, high)
        super().__init__(low, high)

    def sample(self, rng: Any) -> int:
        """Draw one value with ``rng`` (a NumPy generator)."""
        return int(rng.integers(self.args[0], self.args[1], endpoint=True))

    def to_tune(self) -> Any:
        """Return the Ray Tune domain of this distribution."""
        from ray import tune

        return tune.randint(self.args[0], self.args[1] + 1)


@alias("choice")
class ChoiceDistribution(Distribution):
    """One of the given values, each equally likely (``!choice [relu, tanh]``)."""

    arity = 0

    def __init__(self, *choices: Any) -> None:
        if not choices:
            raise ValueError("!choice needs at least one value")
        super().__init__(*choices)

    def _flambe_children(self) -> Iterator[tuple[int, Any]]:
        return iter(enumerate(self.args))

    def sample(self, rng: Any) -> Any:
        """Draw one value with ``rng`` (a NumPy generator)."""
        return self.args[int(rng.integers(0, len(self.args)))]

    def to_tune(self) -> Any:
        """Return the Ray Tune domain of this distribution."""
        from ray import tune

        return tune.choice(list(range(len(self.args))))


def is_option(value: Any) -> bool:
    """Whether ``value`` is a search option."""
    return isinstance(value, SearchOption)
