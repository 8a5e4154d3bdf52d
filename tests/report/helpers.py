"""A small experiment's output folder, written the way a run writes it (real files).

Three stages: ``dataset`` (1 variant) -> ``train`` (4 variants searched over
``lr`` and ``layers``: 2 kept by ``reduce: {train: 2}``, 1 reduced, 1 failed)
-> ``evaluate`` (2 variants, one per kept train variant). Each variant has
``variant.json``, ``trial.json``, a ``console.out``, TensorBoard event files
written with tensorboardX and a checkpoint folder with a ``state.pt``.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from flambe.experiment.progress import write_json_atomic

TRAIN = {  # name -> (id, params, status, accuracy by step)
    "lr=0.1,layers=1": ("a1" * 20, {"lr": 0.1, "layers": 1}, "success", [0.50, 0.70, 0.80, 0.85]),
    "lr=0.1,layers=2": ("a2" * 20, {"lr": 0.1, "layers": 2}, "success", [0.55, 0.75, 0.90, 0.95]),
    "lr=0.01,layers=1": ("a3" * 20, {"lr": 0.01, "layers": 1}, "reduced", [0.40, 0.50, 0.60, 0.65]),
    "lr=0.01,layers=2": ("a4" * 20, {"lr": 0.01, "layers": 2}, "failure", [0.45, 0.52]),
}
DATASET_ID = "d0" * 20
EVALUATE = {"from-a1": ("e1" * 20, "a1" * 20, 0.83), "from-a2": ("e2" * 20, "a2" * 20, 0.93)}
TRACEBACK = (
    'Traceback (most recent call last):\n  File "trainer.py", line 12, in run\n'
    "    loss.backward()\nRuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB\n"
)
CHECKPOINT_BYTES = 3000


def _variant(
    out: str,
    stage: str,
    name: str,
    vid: str,
    params: dict[str, Any],
    lineage: dict[str, str],
    values: list,
    log_lines: list,
) -> str:
    from tensorboardX import SummaryWriter

    folder = os.path.join(out, stage, name)
    os.makedirs(os.path.join(folder, "checkpoint", "model"), exist_ok=True)
    write_json_atomic(
        os.path.join(folder, "variant.json"),
        {"stage": stage, "id": vid, "name": name, "params": params, "lineage": lineage},
    )
    if values:
        writer = SummaryWriter(folder)
        for step, value in enumerate(values):
            writer.add_scalar("Validation/Accuracy", value, step)
            writer.add_scalar("Best/Accuracy", max(values[: step + 1]), step)
            writer.add_scalar("Training/Loss", 1.0 - value, step * 10)
        writer.close()
    with open(os.path.join(folder, "console.out"), "w", encoding="utf-8") as handle:
        handle.write("".join(line + "\n" for line in log_lines))
    with open(os.path.join(folder, "checkpoint", "state.pt"), "wb") as handle:
        handle.write(b"\x01" * CHECKPOINT_BYTES)
    with open(
        os.path.join(folder, "checkpoint", "model", "config.yaml"), "w", encoding="utf-8"
    ) as handle:
        handle.write("!MLPEncoder {}\n")
    write_json_atomic(
        os.path.join(folder, "trial.json"),
        {
            "id": vid,
            "step": len(values),
            "done": True,
            "last_metric": values[-1] if values else None,
            "best_score": max(values) if values else None,
            "direction": "max",
            "metric_name": "Accuracy",
        },
    )
    return folder


def entry(
    name: str,
    params: dict[str, Any],
    lineage: dict[str, str],
    status: str,
    values: list,
    checkpoint: str,
    error: str | None = None,
) -> dict[str, Any]:
    """A variant's entry in progress.json, as the engine writes it."""
    return {
        "name": name,
        "params": params,
        "lineage": lineage,
        "status": status,
        "step": len(values),
        "last_metric": values[-1] if values else None,
        "best_metric": max(values) if values else None,
        "best_score": max(values) if values else None,
        "checkpoint": checkpoint,
        "error": error,
        "reused": False,
        "metric_name": "Accuracy",
        "total_steps": 4 if values else 1,
    }


def make_experiment(root: str, status: str = "success") -> str:
    """Write the experiment under ``root``; returns its output folder."""
    out = os.path.join(root, "output__small")
    os.makedirs(out, exist_ok=True)
    now = time.time()
    stages: dict[str, Any] = {}
    folder = _variant(out, "dataset", "default", DATASET_ID, {}, {}, [], ["loaded 100 rows"])
    stages["dataset"] = {
        "status": "success",
        "depends_on": [],
        "started": now - 100,
        "finished": now - 95,
        "variants": {DATASET_ID: entry("default", {}, {}, "success", [], folder + "/checkpoint")},
    }
    train: dict[str, Any] = {}
    for name, (vid, params, vstatus, values) in TRAIN.items():
        failed = vstatus == "failure"
        folder = _variant(
            out,
            "train",
            name,
            vid,
            params,
            {"dataset": DATASET_ID},
            values,
            [f"step {i}: accuracy {v}" for i, v in enumerate(values)]
            + ([TRACEBACK] if failed else []),
        )
        train[vid] = entry(
            name,
            params,
            {"dataset": DATASET_ID},
            vstatus,
            values,
            folder + "/checkpoint",
            TRACEBACK if failed else None,
        )
    stages["train"] = {
        "status": "failure",
        "depends_on": ["dataset"],
        "started": now - 95,
        "finished": now - 20,
        "variants": train,
    }
    evaluate: dict[str, Any] = {}
    for name, (vid, parent, value) in EVALUATE.items():
        lineage = {"dataset": DATASET_ID, "train": parent}
        folder = _variant(out, "evaluate", name, vid, {}, lineage, [value], [f"accuracy {value}"])
        evaluate[vid] = entry(name, {}, lineage, "success", [value], folder + "/checkpoint")
    stages["evaluate"] = {
        "status": "success",
        "depends_on": ["dataset", "train"],
        "started": now - 20,
        "finished": now - 5,
        "variants": evaluate,
    }
    write_json_atomic(
        os.path.join(out, "progress.json"),
        {
            "schema_version": 1,
            "name": "small",
            "output_path": out,
            "status": status,
            "started": now - 100,
            "finished": None if status == "running" else now - 5,
            "stages": stages,
        },
    )
    write_json_atomic(os.path.join(out, "run.json"), {"fingerprint": "ab" * 20, "seed": 1234})
    with open(os.path.join(out, "experiment.yaml"), "w", encoding="utf-8") as handle:
        handle.write(
            "!Experiment\nname: small\npipeline:\n  train: !Trainer\n"
            "    metric_fn: !Accuracy {}\nreduce:\n  train: 2\nseed: 1234\n"
        )
    with open(os.path.join(out, "console.log"), "w", encoding="utf-8") as handle:
        handle.write(
            f"INFO Experiment small: output in {out}\nERROR train/lr=0.01,layers=2 failed\n"
        )
    return out


def read_progress(out: str) -> dict[str, Any]:
    """The progress document."""
    with open(os.path.join(out, "progress.json"), encoding="utf-8") as handle:
        return json.load(handle)
