"""Run an example of examples/ in process, on a copy with absolute paths, and read its outputs."""

from __future__ import annotations

import json
import re
import tempfile
import time
from pathlib import Path

import torch

from flambe.compile import yaml

ROOT = Path(__file__).resolve().parent.parent


def run_example(name: str, replacements: list[tuple[str, str]]) -> tuple[dict, float, Path]:
    """(progress.json, wall seconds, output folder) of a run of ``examples/<name>``."""
    torch.set_num_threads(1)  # on a small, busy machine two threads are many times slower
    source = ROOT / "examples" / name
    text = source.read_text()
    match = re.search(r"^  (\w+): (\.\./\.\./\.\./shared/data/\w+)", text, flags=re.M)
    if match:
        text = text.replace(match.group(2), str((source.parent / match.group(2)).resolve()))
    folder = Path(tempfile.mkdtemp(prefix="flambe-bench-"))
    text = text.replace("!Experiment\n", f"!Experiment\nsave_path: {folder}\n", 1)
    for old, new in replacements:
        if old not in text:
            raise SystemExit(f"{old!r} is not in {name}")
        text = text.replace(old, new)
    config = folder / Path(name).name
    config.write_text(text)
    experiment = yaml.load(text, file=str(config))()
    start = time.perf_counter()
    experiment.run()
    elapsed = time.perf_counter() - start
    output = folder / f"output__{experiment.name}"
    return json.loads((output / "progress.json").read_text()), elapsed, output


def stage_metric(progress: dict, stage: str, key: str = "last_metric") -> float:
    """The metric of the (single) variant of ``stage``."""
    (variant,) = progress["stages"][stage]["variants"].values()
    return float(variant[key])
