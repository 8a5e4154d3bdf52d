"""Variants computed up front: products, inheritance, identities, names, DAG. Pure, no Ray.

E6-E8, E11-E14, E13b, and §10 items 6, 7, 12 and 19.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import tests.core.experiment_components as xc
from flambe.compile import Component, yaml
from flambe.experiment.variants import (
    MAX_NAME,
    Variant,
    stage_dependencies,
    stage_variants,
    transitive,
)

BUILT: list[str] = []


class VBuilt(Component):
    """Records every construction (search options must not build components)."""

    def __init__(self, size: int = 1) -> None:
        super().__init__()
        BUILT.append(f"VBuilt({size})")
        self.size = size


def expand(
    text: str,
    seed: int = 0,
    num_samples: dict[str, int] | None = None,
    survive: dict[str, Callable[[list[Variant]], list[Variant]]] | None = None,
) -> dict[str, list[Variant]]:
    """Every stage's variants, the way the engine computes them (survivors feed later stages)."""
    exp = yaml.load(text)()
    deps = stage_dependencies(exp.pipeline)
    out: dict[str, list[Variant]] = {}
    kept: dict[str, list[Variant]] = {}
    for index, (stage, schema) in enumerate(exp.pipeline.items()):
        out[stage] = stage_variants(
            stage,
            schema,
            np.random.default_rng([seed, index]),
            (num_samples or {}).get(stage, 1),
            [kept[d] for d in deps[stage]],
            yaml.dump,
        )
        kept[stage] = (survive or {}).get(stage, lambda vs: vs)(out[stage])
    return out


def pipeline(body: str) -> str:
    return "!Experiment\nname: v\npipeline:\n" + body


def built(variant: Variant) -> Any:
    """The component of a resolved config (links left unbound: no upstream needed)."""
    from flambe.compile.yaml import build, compose_all

    nodes, name = compose_all(variant.config_text, "v")
    return build(nodes[0], name, bind=False)


# -- products -------------------------------------------------------------------------------


def test_options_in_one_stage_multiply() -> None:
    # E6
    variants = expand(
        pipeline("  model: !XModel\n    width: !g [2, 3, 4]\n    scale: !g [128, 256]\n")
    )["model"]
    assert len(variants) == 6
    assert {(v.params["width"], v.params["scale"]) for v in variants} == {
        (w, s) for w in (2, 3, 4) for s in (128, 256)
    }
    for variant in variants:
        assert "!g" not in variant.config_text
        schema = built(variant)
        assert schema["width"] == variant.params["width"] and type(schema["width"]) is int
    names = [v.name for v in variants]
    assert len(set(names)) == 6 and "width=2,scale=128" in names


def test_a_stage_without_options_has_one_default_variant() -> None:
    variants = expand(pipeline("  model: !XModel {width: 2}\n"))["model"]
    assert len(variants) == 1
    assert variants[0].name == "default" and variants[0].params == {}


def test_grid_of_scalars_is_not_split_and_nested_components_are() -> None:
    # E7/E8: components in a !g each bring their own options: 2 + 2 variants, not 2 x 4
    stages = expand(
        pipeline(
            "  m: !XPair\n    a: !g\n      - !XPair {a: !g [4, 5]}\n      - !XPair {b: !g [x, y]}\n"
        )
    )
    variants = stages["m"]
    assert len(variants) == 4
    texts = sorted(v.config_text for v in variants)
    assert all("!g" not in t for t in texts)
    inner = sorted((built(v)["a"].get("a", 0), built(v)["a"].get("b", 0)) for v in variants)
    assert inner == sorted([(4, 0), (5, 0), (0, "x"), (0, "y")])
    two = expand(pipeline("  m: !XPair\n    a: !g [!XPair {a: 2}, !XPair {a: 3}]\n"))["m"]
    assert sorted(built(v)["a"]["a"] for v in two) == [2, 3]
    assert [v.params["a"] for v in two] == ["XPair", "XPair"]
    assert len({v.name for v in two}) == 2  # same display value: told apart by id


def test_components_in_options_are_not_built_while_expanding() -> None:
    # E11: elements are built only inside the trials that select them
    BUILT.clear()
    variants = expand(pipeline("  m: !XPair\n    a: !g [!VBuilt {size: 1}, !VBuilt {size: 2}]\n"))
    assert len(variants["m"]) == 2 and BUILT == []


def test_distributions_draw_num_samples_seeded_values() -> None:
    body = "  t: !XCounter\n    value: !uniform [0.0, 1.0]\n    steps: !g [1, 2]\n"
    a = expand(pipeline(body), seed=1, num_samples={"t": 3})["t"]
    b = expand(pipeline(body), seed=1, num_samples={"t": 3})["t"]
    c = expand(pipeline(body), seed=2, num_samples={"t": 3})["t"]
    assert len(a) == 6  # 3 samples x 2 grid values
    assert [v.id for v in a] == [v.id for v in b]
    assert {v.params["value"] for v in a} != {v.params["value"] for v in c}
    assert all(0.0 <= v.params["value"] <= 1.0 for v in a)


def test_sampled_values_are_shared_by_every_variant() -> None:
    # E10: !s draws once; all variants see the same k values
    variants = expand(
        pipeline("  t: !XCounter\n    steps: !s [1, 100, 3]\n    value: !g [1, 2]\n")
    )["t"]
    assert len(variants) == 6
    steps = [v.params["steps"] for v in variants]
    assert len(set(steps)) == 3 and all(steps.count(s) == 2 for s in set(steps))


# -- inheritance ----------------------------------------------------------------------------

DOCS_PIPELINE = pipeline(
    "  model: !XModel\n"
    "    width: !g [2, 3, 4]\n"
    "    scale: !g [128, 256]\n"
    "  trainer: !XTrainer\n"
    "    model: !@ model\n"
    "    lr: !g [0.01, 0.001]\n"
    "  evaluator: !XEvaluator\n"
    "    model: !@ trainer.model\n"
    "  other: !XDataset {}\n"
)


def test_downstream_stages_inherit_upstream_variants() -> None:
    # E12/E13
    stages = expand(DOCS_PIPELINE)
    assert [len(stages[s]) for s in ("model", "trainer", "evaluator", "other")] == [6, 12, 12, 1]
    models = {v.id: v for v in stages["model"]}
    trainers = {v.id: v for v in stages["trainer"]}
    for trainer in stages["trainer"]:
        model = models[trainer.lineage["model"]]
        assert trainer.params["width"] == model.params["width"]
        assert trainer.params["scale"] == model.params["scale"]
    for evaluator in stages["evaluator"]:
        trainer = trainers[evaluator.lineage["trainer"]]
        assert evaluator.lineage["model"] == trainer.lineage["model"]
        assert evaluator.params == trainer.params
    assert len({v.name for v in stages["evaluator"]}) == 12
    assert stages["other"][0].lineage == {}


def test_only_surviving_variants_feed_later_stages() -> None:
    stages = expand(DOCS_PIPELINE, survive={"trainer": lambda vs: vs[:2]})
    assert len(stages["evaluator"]) == 2
    assert {v.lineage["trainer"] for v in stages["evaluator"]} == {
        v.id for v in stages["trainer"][:2]
    }


def test_nested_grid_over_components_gives_each_trial_its_own_upstream() -> None:
    # E13b / §10 item 19
    stages = expand(
        pipeline(
            "  m: !XPair\n"
            "    a: !g [!XPair {a: 2}, !XPair {a: 3}, !XPair {b: !g [5, 6]}]\n"
            "  t: !XReader\n"
            "    got: !@ m\n"
        )
    )
    assert len(stages["m"]) == 4 and len(stages["t"]) == 4
    by_id = {v.id: v for v in stages["m"]}
    assert {v.lineage["m"] for v in stages["t"]} == set(by_id)
    for t in stages["t"]:
        parent = by_id[t.lineage["m"]]
        assert t.params == parent.params and t.own_params == {}


def test_diamond_lineages_stay_consistent() -> None:
    # c links to a and b, which both build on the same root variants
    stages = expand(
        pipeline(
            "  root: !XSource {value: !g [1, 2]}\n"
            "  a: !XReader {got: !@ root, value: !g [10, 20]}\n"
            "  b: !XReader {got: !@ root.value}\n"
            "  c: !XReader {got: !@ a, items: !@ b}\n"
        )
    )
    assert [len(stages[s]) for s in "root a b c".split()] == [2, 4, 2, 4]
    a = {v.id: v for v in stages["a"]}
    b = {v.id: v for v in stages["b"]}
    for c in stages["c"]:
        assert (
            a[c.lineage["a"]].lineage["root"]
            == b[c.lineage["b"]].lineage["root"]
            == c.lineage["root"]
        )


def test_parameters_two_stages_own_are_named_after_each_stage() -> None:
    stages = expand(
        pipeline(
            "  a: !XSource {value: !g [1, 2]}\n"
            "  b: !XSource {value: !g [-3, 4]}\n"
            "  r: !XReader {got: !@ a, items: !@ b, value: !g [7]}\n"
        )
    )
    names = sorted(v.name for v in stages["r"])
    assert names == sorted(f"a.value={x},b.value={y},value=7" for x in (1, 2) for y in (-3, 4))


# -- links: found everywhere (§10 items 6, 7) ----------------------------------------------------


def test_links_inside_lists_and_nested_components_are_dependencies() -> None:
    exp = yaml.load(
        pipeline(
            "  a: !XSource {value: 1}\n"
            "  b: !XSource {value: 2}\n"
            "  c: !XSource {value: 3}\n"
            "  r: !XReader\n"
            "    items:\n"
            "      - !@ a.value\n"
            "      - {deep: [!XPair {a: !@ b}]}\n"
            "    got: {x: [[!@ c.value]]}\n"
        )
    )()
    assert stage_dependencies(exp.pipeline)["r"] == ["a", "b", "c"]


def test_links_inside_grid_options_are_dependencies_and_variants() -> None:
    stages = expand(
        pipeline(
            "  a: !XSource {value: !g [1, 2]}\n"
            "  b: !XSource {value: 5}\n"
            "  r: !XReader\n"
            "    got: !g [!@ a.value, !@ b.value]\n"
        )
    )
    variants = stages["r"]
    assert len(variants) == 4  # 2 link choices x 2 variants of a
    assert sorted(v.params["got"] for v in variants) == ["@a.value"] * 2 + ["@b.value"] * 2
    assert all(set(v.lineage) == {"a", "b"} for v in variants)
    assert (
        sorted(re.sub(r"value=\d,?", "", v.name) for v in variants)
        == ["got=@a.value"] * 2 + ["got=@b.value"] * 2
    )


def test_dag_is_transitive_and_ignores_links_inside_a_stage() -> None:
    # E14
    exp = yaml.load(
        pipeline(
            "  b1: !XSource {value: 1}\n"
            "  b2: !XReader\n"
            "    got: !@ b1.value\n"
            "    items: !XPair\n"
            "      a: 1\n"
            "      b: !@ b2[got]\n"
            "  b3: !XReader {got: !@ b2.got}\n"
        )
    )()
    deps = stage_dependencies(exp.pipeline)
    assert deps == {"b1": [], "b2": ["b1"], "b3": ["b2"]}
    assert {s: set(transitive(deps, s)) for s in deps} == {
        "b1": set(),
        "b2": {"b1"},
        "b3": {"b1", "b2"},
    }


# -- identities and names -----------------------------------------------------------------------


def test_identity_is_stable_and_follows_config_lineage_and_versions(monkeypatch: Any) -> None:
    base = expand(DOCS_PIPELINE)
    assert {s: [v.id for v in vs] for s, vs in expand(DOCS_PIPELINE).items()} == {
        s: [v.id for v in vs] for s, vs in base.items()
    }
    changed = expand(DOCS_PIPELINE.replace("lr: !g [0.01, 0.001]", "lr: !g [0.01, 0.002]"))
    assert [v.id for v in changed["model"]] == [v.id for v in base["model"]]
    same_lr = {v.id for v in base["trainer"] if v.params["lr"] == 0.01}
    assert same_lr <= {v.id for v in changed["trainer"]}
    assert {v.id for v in base["evaluator"]} != {v.id for v in changed["evaluator"]}
    monkeypatch.setattr(xc.XModel, "_flambe_version", "1.0.0")
    bumped = expand(DOCS_PIPELINE)
    assert not {v.id for v in bumped["model"]} & {v.id for v in base["model"]}
    assert not {v.id for v in bumped["evaluator"]} & {v.id for v in base["evaluator"]}


def test_folder_names_are_safe_readable_and_unique() -> None:
    long = "x" * 300
    variants = expand(
        pipeline(f"  t: !XCounter\n    label: !g ['a/b', 'a b', '..', 'a_b', '{long}', 'ok']\n")
    )["t"]
    names = [v.name for v in variants]
    assert len(set(names)) == 6
    for name in names:
        assert re.fullmatch(r"[A-Za-z0-9._=,+@-]+", name), name
        assert len(name) <= MAX_NAME + 9 and name not in (".", "..")
        assert os.path.basename(name) == name
    assert "label=ok" in names
    assert any(
        n.startswith("label=xxxx") and n.endswith(v.id[:8])
        for n, v in zip(names, variants, strict=True)
    )


def test_negative_values_in_names_break_nothing() -> None:
    # §10 item 12: names with '-' (negative numbers) are never parsed back
    stages = expand(
        pipeline(
            "  t: !XCounter\n    value: !g [-0.5, -1e-3, 2]\n    steps: !g [-1, 3]\n"
            "  r: !XReader {got: !@ t.value}\n"
        )
    )
    names = sorted(v.name for v in stages["t"])
    assert "value=-0.5,steps=-1" in names and "value=-0.001,steps=3" in names
    assert len(set(names)) == 6
    assert all(v.params == {k: p for k, p in v.params.items()} for v in stages["r"])
    assert sorted(v.params["value"] for v in stages["r"]) == sorted([-0.5, -1e-3, 2] * 2)


def test_variant_json_round_trips() -> None:
    variant = expand(DOCS_PIPELINE)["trainer"][0]
    data = variant.to_json()
    assert data["id"] == variant.id and data["lineage"] == variant.lineage
    assert data["params"] == variant.params and data["own_params"] == {"lr": 0.01}
    with pytest.raises(KeyError):
        data["config_text"]  # the text travels in the plan, not in variant.json
