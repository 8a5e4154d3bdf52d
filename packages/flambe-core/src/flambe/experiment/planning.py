"""What running an experiment config would do, worked out without running it (``flambe plan``).

From the loaded config alone (no object is built, Ray is not started):

- the stages in order, with the stages each depends on;
- each stage's variants, computed as the engine computes them (same seed,
  same identities), the values that differ between them and how many there
  are; ``reduce`` and how many variants it keeps; schedulers, search
  algorithms and their number of trials;
- when the output folder holds an earlier run, what happens to each variant:
  **reused** (finished, identity unchanged), **continued** from its last
  checkpoint (unfinished, identity unchanged), or **run** anew, and why
  (never run, config changed, upstream changed, class version changed, code
  changed, the stage is not in ``resume``);
- an estimate of the time, from the durations the earlier runs recorded in
  each variant's ``trial.json``.

Which k variants a ``reduce`` keeps is known only once the stage ran (unless
every variant is reused): the stages below it are then planned on the first
k, and say so.

What the output folder records is read by :mod:`flambe.experiment.earlier_run`;
:mod:`flambe.experiment.plan_text` writes the plan as text.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from flambe.experiment.earlier_run import (
    EarlierRun,
    changed_settings,
    durations,
    output_folder,
    read_earlier_run,
    stage_wall_time,
    why_rerun,
)

REUSE = "reuse"
CONTINUE = "continue"
RUN = "run"


@dataclass
class VariantPlan:
    """What happens to one variant.

    Attributes
    ----------
    name : str
        Its folder name.
    id : str
        Its identity.
    params : dict
        Its values.
    action : str
        ``reuse``, ``continue`` or ``run``.
    reason : str
        Why (for ``continue``: the step it continues from).
    estimate_s : float, optional
        Seconds it is expected to take (None: no recorded duration).

    """

    name: str
    id: str
    params: dict[str, Any]
    action: str
    reason: str
    estimate_s: float | None = None


@dataclass
class StagePlan:
    """One stage of the plan (see the module documentation)."""

    name: str
    depends_on: list[str]
    component: str
    count: int
    values: dict[str, list[Any]]
    reduce: int | None = None
    keeps: int | None = None
    scheduler: str | None = None
    search: str | None = None
    num_samples: int = 1
    executor: str | None = None
    executor_reason: str | None = None
    variants: list[VariantPlan] = field(default_factory=list)
    estimate_s: float | None = None
    mean_duration_s: float | None = None
    estimate_from: str | None = None
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """Variants by action."""
        out = {REUSE: 0, CONTINUE: 0, RUN: 0}
        for variant in self.variants:
            out[variant.action] += 1
        if self.search:  # proposed trial by trial: all run
            out[RUN] = self.count
        return out


@dataclass
class ExperimentPlan:
    """The plan of a whole experiment."""

    name: str
    config: str
    output: str
    has_run: bool
    seed: int | None
    stages: list[StagePlan]
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Every variant (trial) of every stage."""
        return sum(stage.count for stage in self.stages)

    @property
    def to_run(self) -> int:
        """Variants that run (anew or from a checkpoint)."""
        return sum(s.counts()[RUN] + s.counts()[CONTINUE] for s in self.stages)

    @property
    def estimate_s(self) -> float | None:
        """Seconds, summed over the stages that have an estimate (None: none has)."""
        known = [s.estimate_s for s in self.stages if s.estimate_s is not None]
        return sum(known) if known else None

    @property
    def unestimated(self) -> list[str]:
        """Stages with variants to run and no recorded duration."""
        return [
            s.name
            for s in self.stages
            if s.estimate_s is None and (s.counts()[RUN] + s.counts()[CONTINUE])
        ]

    def to_json(self) -> dict[str, Any]:
        """The plan as data (``flambe plan --json``)."""
        stages = []
        for stage in self.stages:
            data = asdict(stage)
            data["actions"] = stage.counts()
            stages.append(data)
        return {
            "name": self.name,
            "config": self.config,
            "output": self.output,
            "has_run": self.has_run,
            "seed": self.seed,
            "total_variants": self.total,
            "to_run": self.to_run,
            "estimate_s": self.estimate_s,
            "unestimated_stages": self.unestimated,
            "notes": self.notes,
            "stages": stages,
        }


# ---------------------------------------------------------------------------
# the parts of a stage's plan
# ---------------------------------------------------------------------------


def _share(variant: VariantPlan, mean: float | None) -> float:
    """How much of a full variant's time is left: 1 to run, 0 reused, the rest to continue."""
    if variant.action == RUN:
        return 1.0
    if variant.action == REUSE:
        return 0.0
    if mean and variant.estimate_s is not None:
        return min(max(variant.estimate_s / mean, 0.0), 1.0)
    return 1.0


def _name(value: Any) -> str | None:
    if value is None:
        return None
    tag = getattr(value, "_created_with_tag", None)
    cls = getattr(value, "component_subclass", None)
    if tag:
        return str(tag).lstrip("!")
    if cls is not None:
        return str(cls.__name__)
    return type(value).__name__


def _values(variants: list[Any]) -> dict[str, list[Any]]:
    """Key -> the distinct values the variants' own parameters take (in first-seen order)."""
    out: dict[str, list[Any]] = {}
    for variant in variants:
        for key, value in variant.own_params.items():
            seen = out.setdefault(key, [])
            if value not in seen:
                seen.append(value)
    return out


# ---------------------------------------------------------------------------
# the plan
# ---------------------------------------------------------------------------


def _resume_set(keywords: Mapping[str, Any], stages: list[str]) -> set[str] | None:
    resume = keywords.get("resume")
    if not resume:
        return None
    if isinstance(resume, str):
        return set(stages[: stages.index(resume) + 1]) if resume in stages else set()
    return {s for s in resume if isinstance(s, str)}


def _devices(keywords: Mapping[str, Any]) -> float:
    devices = keywords.get("devices")
    if isinstance(devices, Mapping) and isinstance(devices.get("cpu"), (int, float)):
        return max(float(devices["cpu"]), 0.01)
    return 1.0


def _changed_config_note(output: str, changed: list[str], stages: list[str]) -> str:
    """The note on an output folder that holds another configuration of the experiment."""
    return (
        f"{output} holds another configuration of this experiment (changed: "
        f"{', '.join(changed)}): flambe run stops there unless given --force (which deletes "
        "it: everything runs anew) or 'resume: <stage>' (which reuses the finished variants "
        f"of the stages up to it); the actions above are those of 'resume: {stages[-1]}'"
    )


def _seed(
    keywords: Mapping[str, Any], earlier: EarlierRun, pipeline: Mapping[str, Any], notes: list[str]
) -> Any:
    """The seed given or recorded; notes when none is and the pipeline draws values at random."""
    from flambe.compile import tree

    seed = keywords.get("seed")
    if seed is None:
        seed = earlier.info.get("seed")
    if seed is None and any(_is_random(node) for node in tree.walk(pipeline)):
        notes.append(
            "no seed given or recorded: values drawn at random (!s, distributions) are drawn "
            "again at run time; the counts hold, the values shown are one draw"
        )
    return seed


def _draw_sampled_options(pipeline: Mapping[str, Any], draw_seed: int) -> None:
    """Draw the values of every ``!s`` of the pipeline, as the engine does with this seed."""
    import numpy as np

    from flambe.compile import tree
    from flambe.experiment.options import SampledUniformSearchOptions

    rng = np.random.default_rng(draw_seed)
    for node in tree.walk(pipeline):
        if isinstance(node, SampledUniformSearchOptions):
            node.values = None
            node.draw(rng)


def _variant_action(
    planner: _Planner,
    stage: str,
    variant: Any,
    folder: str,
    saved: Mapping[str, Any] | None,
    versions: Mapping[str, str],
) -> tuple[str, str]:
    """What happens to one variant of a grid stage (``reuse``, ``continue``, ``run``) and why."""
    if planner.resume is not None and stage not in planner.resume:
        return RUN, "not in resume: runs again" if saved else "new: never run"
    if not saved:
        return RUN, "new: never run"
    unchanged = saved.get("id") == variant.id
    if unchanged and saved.get("done"):
        return REUSE, "finished, unchanged"
    if unchanged and int(saved.get("step") or 0) > 0:
        total = saved.get("total_steps")
        return CONTINUE, f"from its checkpoint at step {saved['step']}" + (
            f" of {total}" if total else ""
        )
    return RUN, why_rerun(folder, variant, versions, planner.earlier.versions)


def _variant_estimate(
    action: str, saved: Mapping[str, Any] | None, mean: float | None
) -> float | None:
    """Seconds one variant is expected to take, from a stage's mean recorded duration."""
    if action == REUSE:
        return 0.0
    if mean is None:
        return None
    if action == CONTINUE and saved and saved.get("total_steps"):
        left = 1 - int(saved["step"]) / max(int(saved["total_steps"]), 1)
        return mean * max(left, 0.0)
    return mean


@dataclass
class _Planner:
    """Plans the stages one by one, carrying what a stage passes to the next.

    ``survivors`` holds the variants each planned stage keeps for the later
    ones, ``uncertain`` the stages whose kept variants are known only once
    they ran; ``notes`` are the experiment's.
    """

    output: str
    earlier: EarlierRun
    draw_seed: int
    deps: dict[str, list[str]]
    reduce: dict[str, Any]
    search: dict[str, Any]
    schedulers: dict[str, Any]
    num_samples: dict[str, Any]
    resume: set[str] | None
    max_variants: Any
    slots: int
    executor: Any
    notes: list[str]
    survivors: dict[str, list[Any]] = field(default_factory=dict)
    uncertain: set[str] = field(default_factory=set)

    def plan_stage(self, stage: str, schema: Any) -> StagePlan:
        """The plan of one stage, its upstream stages planned already."""
        deps = self.deps[stage]
        samples = int(self.num_samples.get(stage, 1))
        parents = [self.survivors[d] for d in deps]
        info = StagePlan(
            name=stage,
            depends_on=list(deps),
            component=_name(schema) or "?",
            count=0,
            values={},
            reduce=int(self.reduce[stage]) if isinstance(self.reduce.get(stage), int) else None,
            scheduler=_name(self.schedulers.get(stage)),
            search=_name(self.search.get(stage)),
            num_samples=samples,
        )
        if any(d in self.uncertain for d in deps):
            info.notes.append(
                "planned on the first variants that "
                + ", ".join(d for d in deps if d in self.uncertain)
                + " keeps: which ones is known once it ran"
            )
        recorded = durations(os.path.join(self.output, stage))
        mean = sum(d for d, _ in recorded) / len(recorded) if recorded else None
        info.mean_duration_s = mean
        if stage in self.search:
            variants, scores = self.searched_variants(info, samples, parents), None
            info.values = _searched_values(schema)
        else:
            variants, scores = self.grid_variants(info, schema, samples, parents, mean)
        self.keep_survivors(info, variants, scores)
        if self.executor is not None:
            info.executor, info.executor_reason = self.executor(
                stage, info.count, stage in self.schedulers, stage in self.search
            )
        self.estimate(info, mean)
        return info

    def searched_variants(
        self, info: StagePlan, samples: int, parents: list[list[Any]]
    ) -> list[Any]:
        """The trials a search algorithm proposes for a stage, one by one: all of them run."""
        from flambe.experiment.variants import Variant, consistent_lineages

        stage = info.name
        lineages = consistent_lineages(parents) or [({}, [])]
        info.count = samples
        info.notes.append(
            f"{samples} trial{'s' * (samples != 1)} proposed one by one by {info.search}; "
            "a searched stage runs all its trials"
        )
        return [
            Variant(
                stage,
                f"{stage}-trial-{i}",
                f"trial {i}",
                {},
                "",
                dict(lineages[i % len(lineages)][0]),
            )
            for i in range(samples)
        ]

    def grid_variants(
        self,
        info: StagePlan,
        schema: Any,
        samples: int,
        parents: list[list[Any]],
        mean: float | None,
    ) -> tuple[list[Any], dict[str, float | None] | None]:
        """A grid stage's variants, each planned in ``info.variants``.

        Returns the variants and, when every one is reused, their recorded
        best scores by identity (None when some variant runs).
        """
        import numpy as np

        from flambe.compile import yaml
        from flambe.experiment.code_versions import class_version
        from flambe.experiment.trial import read_trial
        from flambe.experiment.variants import stage_variants

        stage = info.name
        stage_rng = np.random.default_rng([self.draw_seed, zlib.crc32(stage.encode())])
        variants = stage_variants(stage, schema, stage_rng, samples, parents, yaml.dump)
        info.count = len(variants)
        info.values = _values(variants)
        versions = {
            f"{cls.__module__}:{cls.__qualname__}": class_version(cls) for cls in _classes(schema)
        }
        scores: dict[str, float | None] = {}
        all_reused = True
        for variant in variants:
            folder = os.path.join(self.output, stage, variant.name)
            saved = read_trial(folder) if self.earlier.has_run else None
            action, reason = _variant_action(self, stage, variant, folder, saved, versions)
            if action == REUSE and saved:
                scores[variant.id] = saved.get("best_score")
            else:
                all_reused = False
            estimate = _variant_estimate(action, saved, mean)
            info.variants.append(
                VariantPlan(
                    variant.name, variant.id, dict(variant.params), action, reason, estimate
                )
            )
        if isinstance(self.max_variants, int) and info.count > self.max_variants:
            self.notes.append(
                f"stage '{stage}' expands to {info.count} variants, more than max_variants "
                f"({self.max_variants}): flambe run refuses it (raise max_variants if intended)"
            )
        return variants, scores if all_reused else None

    def keep_survivors(
        self, info: StagePlan, variants: list[Any], scores: dict[str, float | None] | None
    ) -> None:
        """Record the variants a stage keeps for the later ones (the best k of a ``reduce``)."""
        stage = info.name
        k = info.reduce or 0
        info.keeps = min(k, info.count) if k else info.count
        if k and k < info.count:
            if scores is not None:
                ranked = sorted(
                    variants,
                    key=lambda v: (scores.get(v.id) is not None, scores.get(v.id) or 0.0),
                    reverse=True,
                )
                self.survivors[stage] = ranked[:k]
            else:
                self.survivors[stage] = variants[:k]
                self.uncertain.add(stage)
            return
        self.survivors[stage] = variants
        if stage in self.search or any(d in self.uncertain for d in self.deps[stage]):
            self.uncertain.add(stage)

    def estimate(self, info: StagePlan, mean: float | None) -> None:
        """Fill a stage's time estimate, from the last run's wall time or the variants' times."""
        counts = info.counts()
        running = counts[RUN] + counts[CONTINUE]
        wall = stage_wall_time(self.earlier.progress, info.name)
        if not running:
            info.estimate_s = 0.0
            return
        if wall is None and mean is None:
            return
        share = sum(_share(v, mean) for v in info.variants) if not info.search else info.count
        if wall is not None:  # the last run's wall time: start-up and parallelism included
            info.mean_duration_s = wall
            info.estimate_from = "the wall time of this stage in the last run"
            info.estimate_s = wall * share
            return
        parallel = 1 if info.count == 1 and not info.search and not info.scheduler else self.slots
        info.estimate_from = "the time each variant ran in earlier runs"
        info.estimate_s = (mean or 0.0) * share / max(1, min(parallel, running))


def plan_experiment(root: Any, config_file: str, executor: Any = None) -> ExperimentPlan:
    """Work out what running the experiment schema ``root`` would do.

    Parameters
    ----------
    root : Schema
        The loaded (not built) ``!Experiment`` config.
    config_file : str
        The file it was loaded from (relative paths start from its folder).
    executor : callable, optional
        ``executor(stage, count, has_scheduler, has_search) -> (name, reason)``:
        where a stage runs. Without it the plan names no executor.

    Returns
    -------
    ExperimentPlan
        The stages, their variants and what happens to each.

    """
    from flambe.experiment.variants import stage_dependencies

    keywords = root.keywords
    pipeline = dict(keywords.get("pipeline") or {})
    stages = list(pipeline)
    output = output_folder(root, config_file)
    earlier = read_earlier_run(output)
    notes: list[str] = []
    changed = changed_settings(root, output) if earlier.has_run else None
    if changed and not keywords.get("resume"):
        notes.append(_changed_config_note(output, changed, stages))
    seed = _seed(keywords, earlier, pipeline, notes)
    draw_seed = int(seed) if seed is not None else 0
    _draw_sampled_options(pipeline, draw_seed)
    planner = _Planner(
        output=output,
        earlier=earlier,
        draw_seed=draw_seed,
        deps=stage_dependencies(pipeline),
        reduce=dict(keywords.get("reduce") or {}),
        search=dict(keywords.get("search") or {}),
        schedulers=dict(keywords.get("schedulers") or {}),
        num_samples=dict(keywords.get("num_samples") or {}),
        resume=_resume_set(keywords, stages),
        max_variants=keywords.get("max_variants"),
        slots=max(1, int((os.cpu_count() or 1) / _devices(keywords))),
        executor=executor,
        notes=notes,
    )
    return ExperimentPlan(
        name=str(keywords.get("name")),
        config=os.path.abspath(config_file),
        output=output,
        has_run=earlier.has_run,
        seed=int(seed) if seed is not None else None,
        stages=[planner.plan_stage(stage, pipeline[stage]) for stage in stages],
        notes=notes,
    )


def _searched_values(schema: Any) -> dict[str, list[Any]]:
    """Key -> the option a search algorithm draws it from (``uniform([0.01, 0.1])``)."""
    from flambe.compile import tree
    from flambe.experiment.identity import short_keys
    from flambe.experiment.options import Distribution, SearchOption

    found: list[tuple[str, Any]] = []
    stack: list[tuple[tuple[str, ...], Any]] = [((), schema)]
    seen: set[int] = set()
    while stack:
        path, node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, Distribution):  # uniform [0.01, 0.1]
            kind = type(node).__name__.removesuffix("Distribution").lower()
            found.append((".".join(path), f"{kind} {node.args}"))
            continue
        if isinstance(node, SearchOption):
            found.append((".".join(path), repr(node)))
            continue
        children = list(tree.children(node))
        stack.extend((path + (str(key),), child) for key, child in reversed(children))
    return {key: [value] for key, value in short_keys(found).items()}


def _is_random(node: Any) -> bool:
    from flambe.experiment.options import Distribution, SampledUniformSearchOptions

    return isinstance(node, (Distribution, SampledUniformSearchOptions))


def _classes(schema: Any) -> list[type]:
    from flambe.compile import tree
    from flambe.compile.schema import Schema

    found: list[type] = []
    for node in tree.walk(schema):
        if isinstance(node, Schema) and node.component_subclass not in found:
            found.append(node.component_subclass)
    return found
