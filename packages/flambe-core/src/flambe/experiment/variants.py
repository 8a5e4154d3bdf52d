"""Expanding a pipeline stage into its variants, up front.

A stage's variants are the cartesian product of its own search options and
the surviving variants of the stages it links to (inheritance). Each
variant gets a stable identity and a readable folder name from
:mod:`flambe.experiment.identity`, which owns both.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from flambe.compile import tree
from flambe.compile.link import Link
from flambe.compile.schema import Schema
from flambe.experiment.identity import (
    MAX_NAME,
    Params,
    Variant,
    class_versions,
    folder_name,
    identify,
    short_keys,
    unique_names,
    variant_identity,
)
from flambe.experiment.options import (
    Distribution,
    GridSearchOptions,
    SampledUniformSearchOptions,
    SearchOption,
)

__all__ = [
    "MAX_NAME",
    "Variant",
    "class_versions",
    "consistent_lineages",
    "contains_option",
    "display",
    "draw",
    "expand",
    "folder_name",
    "short_keys",
    "stage_dependencies",
    "stage_variants",
    "transitive",
    "variant_identity",
]


# ---------------------------------------------------------------------------
# options inside a config
# ---------------------------------------------------------------------------


def contains_option(value: Any, kinds: tuple[type, ...] = (SearchOption,)) -> bool:
    """Whether ``value`` holds a search option anywhere."""
    if isinstance(value, kinds):
        return True
    items = tree.items(value) or []
    return any(contains_option(v, kinds) for _, v in items)


def display(value: Any) -> Any:
    """How a chosen value reads in params and folder names."""
    if isinstance(value, Schema):
        return (value._created_with_tag or value.component_subclass.__name__).lstrip("!")
    if isinstance(value, Link):
        return "@" + value.link_str
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    return str(value)


def draw(value: Any, rng: Any, path: tuple[str, ...] = ()) -> tuple[Any, Params]:
    """A copy of ``value`` with every distribution replaced by one drawn value."""
    if isinstance(value, Distribution):
        sample = value.sample(rng)
        return sample, [(".".join(path), display(sample))]
    if isinstance(value, SearchOption) or not contains_option(value, (Distribution,)):
        return value, []
    items = tree.items(value) or []
    new_items, params = [], []
    for key, child in items:
        drawn, child_params = draw(child, rng, path + (str(key),))
        new_items.append((key, drawn))
        params.extend(child_params)
    return tree.rebuild(value, new_items), params


def expand(value: Any, rng: Any, path: tuple[str, ...] = ()) -> list[tuple[Any, Params]]:
    """Every resolution of the grid options in ``value``, with the values chosen.

    Option-free parts are shared, not copied.
    """
    if isinstance(value, (GridSearchOptions, SampledUniformSearchOptions)):
        out: list[tuple[Any, Params]] = []
        for element in value.grid(rng):
            for resolved, params in expand(element, rng, path):
                out.append((resolved, [(".".join(path), display(element))] + params))
        return out
    if not contains_option(value):
        return [(value, [])]
    items = tree.items(value) or []
    choices = [
        [(key, r, p) for r, p in expand(child, rng, path + (str(key),))] for key, child in items
    ]
    out = []
    for combo in itertools.product(*choices):
        out.append(
            (
                tree.rebuild(value, [(k, r) for k, r, _ in combo]),
                [p for _, _, params in combo for p in params],
            )
        )
    return out


# ---------------------------------------------------------------------------
# a stage's variants
# ---------------------------------------------------------------------------


def consistent_lineages(
    parents: Sequence[Sequence[Variant]],
) -> list[tuple[dict[str, str], Params]]:
    """Combinations of upstream variants that agree on every stage they share."""
    out = []
    for combo in itertools.product(*parents):
        lineage: dict[str, str] = {}
        params: Params = []
        ok = True
        # a parameter two parents own (both name it 'value') reads as 'a.value', 'b.value'
        counts: dict[str, int] = {}
        for parent in combo:
            for key in parent.params:
                counts[key] = counts.get(key, 0) + 1
        for parent in combo:
            for stage, vid in list(parent.lineage.items()) + [(parent.stage, parent.id)]:
                if lineage.setdefault(stage, vid) != vid:
                    ok = False
                    break
            if not ok:
                break
            for key, value in parent.params.items():
                if counts[key] > 1 and key in parent.own_params:
                    key = f"{parent.stage}.{key}"
                if (key, value) not in params:
                    params.append((key, value))
        if ok:
            out.append((lineage, params))
    return out


def stage_variants(
    stage: str,
    schema: Any,
    rng: Any,
    num_samples: int,
    parents: Sequence[Sequence[Variant]],
    dump: Any,
) -> list[Variant]:
    """Every variant of ``stage``.

    Parameters
    ----------
    stage : str
        The stage name.
    schema : Any
        Its config as loaded (with options).
    rng : numpy.random.Generator
        Draws ``!s`` values and distributions.
    num_samples : int
        Random samples to draw when the stage has distributions.
    parents : sequence of lists of Variant
        The surviving variants of each stage it links to directly.
    dump : callable
        Writes a resolved config as YAML text.

    """
    samples = num_samples if contains_option(schema, (Distribution,)) else 1
    own: list[tuple[Any, Params]] = []
    for _ in range(max(1, samples)):
        drawn, drawn_params = draw(schema, rng)
        for resolved, params in expand(drawn, rng):
            own.append((resolved, drawn_params + params))
    versions = class_versions(schema)
    variants: list[Variant] = []
    seen = set()
    for resolved, params in own:
        text = dump(resolved)
        for lineage, inherited in consistent_lineages(parents):
            variant = identify(stage, text, params, lineage, inherited, versions)
            if variant.id not in seen:
                seen.add(variant.id)
                variants.append(variant)
    unique_names(variants)
    return variants


def stage_dependencies(pipeline: Mapping[str, Any]) -> dict[str, list[str]]:
    """Stage -> the earlier stages it links to, directly."""
    from flambe.compile.binding import iter_links

    names = list(pipeline)
    deps: dict[str, list[str]] = {}
    for index, (stage, schema) in enumerate(pipeline.items()):
        found: list[str] = []
        for link, _ in iter_links(schema):
            root = link.schematic_path[0]
            if root in names[:index] and root not in found:
                found.append(root)
        deps[stage] = sorted(found, key=names.index)
    return deps


def transitive(deps: Mapping[str, Iterable[str]], stage: str) -> list[str]:
    """Every stage ``stage`` depends on, directly or not, in pipeline order."""
    order = list(deps)
    out: set[str] = set()
    stack = list(deps.get(stage, ()))
    while stack:
        s = stack.pop()
        if s not in out:
            out.add(s)
            stack.extend(deps.get(s, ()))
    return sorted(out, key=order.index)


def deepcopy_config(value: Any) -> Any:
    """A deep copy of a loaded config (links keep pointing inside the copy)."""
    return copy.deepcopy(value)
