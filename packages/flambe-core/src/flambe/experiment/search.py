"""Stages driven by a search algorithm: the searcher proposes the values.

With ``search: {stage: !ray.OptunaSearch {}}`` the variants of a stage
cannot be listed up front: each trial receives values proposed by the
algorithm. The stage's options become a Ray Tune search space (``!g`` and
``!choice`` a choice, ``!uniform``, ``!loguniform``, ``!randint`` their Tune
counterparts), the surviving upstream variants one more choice, and
``num_samples`` sets how many trials run. Each trial then resolves its own
config, identity and folder (named after its values and its Tune trial id).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flambe.compile import tree
from flambe.errors import ConfigError
from flambe.experiment.identity import class_versions, identify, variant_record
from flambe.experiment.options import (
    ChoiceDistribution,
    Distribution,
    GridSearchOptions,
    SampledUniformSearchOptions,
    SearchOption,
)
from flambe.experiment.variants import display

LINEAGE_KEY = "__lineage__"
Path = tuple[str, ...]


def option_paths(value: Any, path: Path = ()) -> list[tuple[Path, SearchOption]]:
    """Every option in a stage config with its path (no options inside options)."""
    if isinstance(value, SearchOption):
        for _, child in value._flambe_children():
            if tree.items(child) and option_paths(child):
                raise ConfigError(
                    "options inside the elements of an option are not supported with a search "
                    "algorithm",
                    getattr(value, "_source", None),
                    hint="use grid search (no search: entry) for conditional spaces",
                )
        return [(path, value)]
    out: list[tuple[Path, SearchOption]] = []
    for key, child in tree.items(value) or []:
        out.extend(option_paths(child, path + (str(key),)))
    return out


def _domain(option: SearchOption, rng: Any) -> Any:
    from ray import tune

    if isinstance(option, (GridSearchOptions, SampledUniformSearchOptions)):
        return tune.choice(list(range(len(option.grid(rng)))))
    if isinstance(option, Distribution):
        return option.to_tune()
    raise ConfigError(f"{option!r} cannot be used with a search algorithm")


def _value(option: SearchOption, chosen: Any, rng: Any) -> Any:
    if isinstance(option, (GridSearchOptions, SampledUniformSearchOptions)):
        return option.grid(rng)[int(chosen)]
    if isinstance(option, ChoiceDistribution):
        return option.args[int(chosen)]
    return chosen


def search_space(schema: Any, rng: Any, lineages: Sequence[Any]) -> dict[str, Any]:
    """The Tune search space of a stage (option paths joined by dots, plus the lineage)."""
    from ray import tune

    space = {
        ".".join(path) or "value": _domain(option, rng) for path, option in option_paths(schema)
    }
    if len(lineages) > 1:
        space[LINEAGE_KEY] = tune.choice(list(range(len(lineages))))
    return space


def resolve(value: Any, chosen: dict[tuple[str, ...], Any], path: Path = ()) -> Any:
    """A copy of ``value`` with the option at each path replaced by its chosen value."""
    if path in chosen and isinstance(value, SearchOption):
        return chosen[path]
    items = tree.items(value)
    if not items or not any(p[: len(path)] == path and len(p) > len(path) for p in chosen):
        return value
    return tree.rebuild(value, [(k, resolve(v, chosen, path + (str(k),))) for k, v in items])


@dataclass
class SearchPlan:
    """What a trial of a searched stage needs to resolve and run its variant.

    Parameters
    ----------
    stage : str
        The stage.
    config_text : str
        The stage's config with its options, as YAML.
    seed : int
        The experiment's seed (``!s`` draws the same values in every trial).
    lineages : list
        The consistent combinations of upstream variants: (lineage, params).
    upstream_configs : dict
        Stage -> variant id -> resolved config text.
    upstream_dirs : dict
        Stage -> variant id -> variant folder.
    output : str
        The experiment's output folder.

    """

    stage: str
    config_text: str
    seed: int
    lineages: list[tuple[dict[str, str], list[tuple[str, Any]]]]
    upstream_configs: dict[str, dict[str, str]]
    upstream_dirs: dict[str, dict[str, str]]
    output: str
    order: list[str] = field(default_factory=list)
    globals_: dict[str, Any] = field(default_factory=dict)
    extensions: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    verbose: bool = False

    def trial_plan(self, config: dict[str, Any], trial_id: str) -> Any:
        """Resolve the trial's variant from the values the algorithm proposed."""
        import zlib

        import numpy as np

        from flambe.compile import yaml
        from flambe.compile.compose import compose_all
        from flambe.compile.yaml import build
        from flambe.experiment.trial import TrialPlan

        nodes, name = compose_all(self.config_text, f"stage {self.stage}")
        schema = build(nodes[0], name, bind=False)
        rng = np.random.default_rng([int(self.seed), zlib.crc32(self.stage.encode())])
        chosen: dict[Path, Any] = {}
        params: list[tuple[str, Any]] = []
        for path, option in option_paths(schema):
            key = ".".join(path) or "value"
            value = _value(option, config[key], rng)
            chosen[path] = value
            params.append((key, display(value)))
        resolved = resolve(schema, chosen)
        text = yaml.dump(resolved)
        lineage, inherited = (
            self.lineages[int(config.get(LINEAGE_KEY, 0))] if self.lineages else ({}, [])
        )
        # several trials may propose the same values: each keeps its own identity and folder
        found = identify(
            self.stage, text, params, lineage, inherited, class_versions(schema), trial_id
        )
        configs = {s: self.upstream_configs[s][lineage[s]] for s in self.order if s in lineage}
        configs[self.stage] = text
        checkpoints = {
            s: os.path.join(self.upstream_dirs[s][lineage[s]], "checkpoint")
            for s in configs
            if s != self.stage
        }
        return TrialPlan(
            stage=self.stage,
            variant=variant_record(found),
            configs=configs,
            checkpoints=checkpoints,
            variant_dir=os.path.join(self.output, self.stage, found.name),
            globals_=self.globals_,
            extensions=self.extensions,
            sources=self.sources,
            verbose=self.verbose,
            seed=self.seed,
        )
