"""The layout of the pipeline's DAG: stages in columns by depth, edges from their links.

``progress.json`` lists, for each stage, every stage it depends on (the
transitive closure); the drawing keeps only the direct edges (its transitive
reduction), so a three-stage chain reads as a chain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

COLUMN_WIDTH = 230
ROW_HEIGHT = 120
NODE_WIDTH = 190
NODE_HEIGHT = 92


def direct_edges(depends_on: Mapping[str, Sequence[str]]) -> list[tuple[str, str]]:
    """(upstream, downstream) pairs of the transitive reduction of ``depends_on``."""
    deps = {
        stage: set(d for d in depends_on.get(stage, ()) if d in depends_on) for stage in depends_on
    }
    edges: list[tuple[str, str]] = []
    for stage, upstream in deps.items():
        for dep in sorted(upstream, key=list(depends_on).index):
            # dep -> stage is implied when another upstream stage already depends on dep
            if not any(dep in deps.get(other, ()) for other in upstream if other != dep):
                edges.append((dep, stage))
    return edges


def layout(depends_on: Mapping[str, Sequence[str]]) -> dict[str, object]:
    """Node positions (columns by longest path from a source) and the direct edges.

    Returns
    -------
    dict
        ``nodes``: stage -> {x, y, width, height}; ``edges``: [[from, to]];
        ``width`` and ``height`` of the drawing.

    """
    order = list(depends_on)
    depth: dict[str, int] = {}

    def depth_of(stage: str, seen: tuple[str, ...] = ()) -> int:
        if stage in depth:
            return depth[stage]
        ups = [d for d in depends_on.get(stage, ()) if d in depends_on and d not in seen]
        depth[stage] = 1 + max((depth_of(d, seen + (stage,)) for d in ups), default=-1)
        return depth[stage]

    for stage in order:
        depth_of(stage)
    columns: dict[int, list[str]] = {}
    for stage in order:
        columns.setdefault(depth[stage], []).append(stage)
    nodes = {}
    for column, stages in columns.items():
        for row, stage in enumerate(stages):
            nodes[stage] = {
                "x": 20 + column * COLUMN_WIDTH,
                "y": 20 + row * ROW_HEIGHT,
                "width": NODE_WIDTH,
                "height": NODE_HEIGHT,
            }
    width = 40 + max(columns or {0: []}) * COLUMN_WIDTH + NODE_WIDTH
    height = 40 + max((len(s) for s in columns.values()), default=1) * ROW_HEIGHT
    return {
        "nodes": nodes,
        "edges": [list(e) for e in direct_edges(depends_on)],
        "width": width,
        "height": height,
    }
