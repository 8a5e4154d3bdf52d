"""Expanding a pipeline stage into its variants, up front.

A stage's variants are the cartesian product of its own search options and
the surviving variants of the stages it links to (inheritance). Each
variant gets a stable identity, a hash of its resolved config (no options
left), the identities of its upstream variants and the versions of its
classes, and a readable, filesystem-safe folder name built from the values
it was given (``n_layers=2,lr=0.01``).
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flambe.compile import tree
from flambe.compile.link import Link
from flambe.compile.schema import Schema
from flambe.experiment.options import Distribution, SearchOption

Params = list[tuple[str, Any]]
MAX_NAME = 120


@dataclass
class Variant:
    """One way to run a stage.

    Parameters
    ----------
    stage : str
        The stage it belongs to.
    id : str
        Stable identity (a hash of the resolved config, lineage and class versions).
    name : str
        The folder name: readable, filesystem-safe, unique within the stage.
    params : dict
        The values chosen for this variant and for its upstream variants.
    config_text : str
        The stage's config with every option replaced by its value, as YAML.
    lineage : dict
        Upstream stage -> id of the variant this one builds on (transitively).

    """

    stage: str
    id: str
    name: str
    params: dict[str, Any]
    config_text: str
    lineage: dict[str, str] = field(default_factory=dict)
    own_params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "id": self.id,
            "name": self.name,
            "params": self.params,
            "own_params": self.own_params,
            "lineage": self.lineage,
        }


# ---------------------------------------------------------------------------
# options inside a config
# ---------------------------------------------------------------------------


def contains_option(value: Any, kinds: tuple[type, ...] = (SearchOption,)) -> bool:
    """Whether ``value`` holds a search option anywhere."""
    if isinstance(value, kinds):
        return True
    items = tree.items(value)
    return bool(items) and any(contains_option(v, kinds) for _, v in items)


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
    if isinstance(value, SearchOption):
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
# names and identities
# ---------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9._=,+@-]")


def short_keys(params: Params) -> dict[str, Any]:
    """Params keyed by their last path segment, or more where that is ambiguous."""
    paths = [p for p, _ in params]
    out: dict[str, Any] = {}
    for path, value in params:
        parts = path.split(".") if path else ["value"]
        for size in range(1, len(parts) + 1):
            key = ".".join(parts[-size:])
            if sum(1 for other in paths if other == key or other.endswith("." + key)) <= 1:
                break
        out[key] = value
    return out


def folder_name(params: Mapping[str, Any], variant_id: str) -> str:
    """A readable, filesystem-safe folder name (``default`` when nothing varies)."""
    if not params:
        return "default"
    text = ",".join(f"{k}={_fmt(v)}" for k, v in params.items())
    text = _UNSAFE.sub("_", text)
    if len(text) > MAX_NAME:
        text = text[: MAX_NAME - 9] + "-" + variant_id[:8]
    return text


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"  # folder names stay short; ties get the id appended
    return str(value)


def variant_identity(
    stage: str, config_text: str, lineage: Mapping[str, str], versions: Mapping[str, str]
) -> str:
    """A stable hash of what defines a variant."""
    payload = json.dumps(
        {
            "stage": stage,
            "config": config_text,
            "lineage": dict(sorted(lineage.items())),
            "versions": dict(sorted(versions.items())),
        },
        sort_keys=True,
    )
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()


def class_versions(value: Any) -> dict[str, str]:
    """``module:Class`` -> ``_flambe_version`` for every component in a config."""
    found: dict[str, str] = {}

    def walk(v: Any) -> None:
        if isinstance(v, Schema):
            cls = v.component_subclass
            found[f"{cls.__module__}:{cls.__qualname__}"] = str(
                getattr(cls, "_flambe_version", "0.0.0")
            )
        for _, child in tree.items(v) or []:
            walk(child)

    walk(value)
    return found


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
        own_params = short_keys(params)
        for lineage, inherited in consistent_lineages(parents):
            vid = variant_identity(stage, text, lineage, versions)
            if vid in seen:
                continue
            seen.add(vid)
            all_params: dict[str, Any] = {}
            for key, value in inherited:
                all_params[key] = value
            for key, value in own_params.items():
                all_params[f"{stage}.{key}" if key in all_params else key] = value
            variants.append(Variant(stage, vid, "", all_params, text, lineage, own_params))
    names = [folder_name(v.params, v.id) for v in variants]
    for variant, name in zip(variants, names):
        variant.name = name if names.count(name) == 1 else f"{name}-{variant.id[:8]}"
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
    out: set = set()
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
