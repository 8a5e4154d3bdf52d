"""Speed of the report site on a large experiment: 1,000 variants over 5 stages.

Builds a synthetic output folder the way a run writes it (``progress.json``,
``run.json``, ``experiment.yaml``, per variant ``variant.json``,
``trial.json``, ``console.out`` and a TensorBoard event file of 100 points
written with tensorboardX), then times, with Flask's test client, the
overview page and its API, a stage page and its API (first call and cached),
and a stage's curves (every variant's event file: first read, then cached).
Target: the overview and a stage page under 1 s each.

Run: ``python bench/bench_report.py [--variants 1000] [--stages 5] [--points 100]``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time

TARGET_S = 1.0
STAGE_NAMES = ["data", "pretrain", "train", "finetune", "evaluate"]


def _write_json(path: str, data: object) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(data, handle)


def _event_templates(
    root: str, rng: random.Random, points: int, count: int = 16
) -> list[tuple[list[float], bytes]]:
    """Write a few distinct learning curves written by tensorboardX: (values, event file bytes)."""
    from tensorboardX import SummaryWriter

    templates = []
    for i in range(count):
        base = rng.uniform(0.5, 0.9)
        values = [min(1.0, base + 0.1 * (1 - 0.97**s) + rng.gauss(0, 0.005)) for s in range(points)]
        folder = os.path.join(root, f".template{i}")
        writer = SummaryWriter(folder)
        for step, value in enumerate(values):
            writer.add_scalar("Validation/Accuracy", value, step)
            writer.add_scalar("Training/Loss", 1 - value, step)
        writer.close()
        name = next(f for f in os.listdir(folder) if f.startswith("events"))
        with open(os.path.join(folder, name), "rb") as handle:
            templates.append((values, handle.read()))
        shutil.rmtree(folder)
    return templates


def build_folder(
    root: str, variants: int = 1000, stages: int = 5, points: int = 100, seed: int = 0
) -> str:
    """Write a finished experiment of ``variants`` variants spread over ``stages`` stages.

    Each stage but the first links to the one before it; every variant has
    three searched parameters, a metric logged ``points`` times (and a loss; the
    event files are copies of 16 curves written with tensorboardX),
    a console log and a small checkpoint. One variant in 50 failed; stages
    with a reduce keep their best 10 variants.

    Returns
    -------
    str
        The output folder (``root/output__bench``).

    """
    rng = random.Random(seed)
    out = os.path.join(root, "output__bench")
    templates = _event_templates(root, rng, points)
    os.makedirs(out, exist_ok=True)
    names = (STAGE_NAMES + [f"stage{i}" for i in range(len(STAGE_NAMES), stages)])[:stages]
    per_stage = [variants // stages + (1 if i < variants % stages else 0) for i in range(stages)]
    reduce = {name: 10 for name in names[:-1]}
    now = time.time()
    progress: dict[str, object] = {
        "schema_version": 1,
        "name": "bench",
        "output_path": out,
        "status": "success",
        "started": now - 3600,
        "finished": now,
        "stages": {},
    }
    previous: list[str] = []
    for index, (stage, count) in enumerate(zip(names, per_stage, strict=True)):
        entries: dict[str, dict[str, object]] = {}
        for k in range(count):
            vid = f"{index:02d}{k:06d}" + f"{rng.getrandbits(128):032x}"
            params = {
                "lr": round(10 ** rng.uniform(-4, -1), 6),
                "layers": rng.choice([1, 2, 3]),
                "act": rng.choice(["relu", "tanh"]),
            }
            name = f"lr={params['lr']},layers={params['layers']},act={params['act']},k={k}"
            failed = k % 50 == 49
            folder = os.path.join(out, stage, name)
            os.makedirs(os.path.join(folder, "checkpoint"), exist_ok=True)
            lineage = {names[index - 1]: previous[k % len(previous)]} if previous else {}
            _write_json(
                os.path.join(folder, "variant.json"),
                {"stage": stage, "id": vid, "name": name, "params": params, "lineage": lineage},
            )
            values, events = templates[(index * 7 + k) % len(templates)]
            with open(
                os.path.join(folder, f"events.out.tfevents.{int(now)}.bench"), "wb"
            ) as handle:
                handle.write(events)
            with open(os.path.join(folder, "console.out"), "w", encoding="utf-8") as handle:
                handle.write("".join(f"step {s}: accuracy {v:.4f}\n" for s, v in enumerate(values)))
            with open(os.path.join(folder, "checkpoint", "state.pt"), "wb") as handle:
                handle.write(b"\0" * 2048)
            _write_json(
                os.path.join(folder, "trial.json"),
                {
                    "id": vid,
                    "step": points,
                    "done": True,
                    "last_metric": values[-1],
                    "best_score": max(values),
                    "direction": "max",
                    "metric_name": "Accuracy",
                },
            )
            entries[vid] = {
                "name": name,
                "params": params,
                "lineage": lineage,
                "status": "failure" if failed else "success",
                "step": points,
                "last_metric": values[-1],
                "best_metric": max(values),
                "best_score": max(values),
                "metric_name": "Accuracy",
                "total_steps": points,
                "checkpoint": os.path.join(folder, "checkpoint"),
                "error": (
                    'Traceback (most recent call last):\n  File "x.py"\n'
                    "RuntimeError: CUDA out of memory"
                )
                if failed
                else None,
                "reused": False,
            }
        if stage in reduce:
            ranked = sorted(
                (v for v in entries.values() if v["status"] == "success"),
                key=lambda v: v["best_score"],
                reverse=True,
            )  # type: ignore
            for entry in ranked[reduce[stage] :]:
                entry["status"] = "reduced"
        progress["stages"][stage] = {  # type: ignore[index]
            "status": "success",
            "depends_on": names[:index],
            "started": now - 3600 + index,
            "finished": now - 100 + index,
            "variants": entries,
        }
        previous = [vid for vid, e in entries.items() if e["status"] == "success"] or list(entries)
    _write_json(os.path.join(out, "progress.json"), progress)
    _write_json(os.path.join(out, "run.json"), {"fingerprint": "f" * 40, "seed": seed})
    with open(os.path.join(out, "experiment.yaml"), "w", encoding="utf-8") as handle:
        handle.write(
            "!Experiment\nname: bench\npipeline: {}\nreduce:\n"
            + "".join(f"  {s}: {k}\n" for s, k in reduce.items())
        )
    with open(os.path.join(out, "console.log"), "w", encoding="utf-8") as handle:
        handle.write(f"Experiment bench: output in {out}\n")
    return out


def measure(out: str) -> dict[str, float]:
    """Seconds taken by each page and API call, with Flask's test client."""
    from flambe.report.app import create_app

    client = create_app(out).test_client()
    progress = json.load(open(os.path.join(out, "progress.json"), encoding="utf-8"))
    stage = list(progress["stages"])[2]
    vid = next(iter(progress["stages"][stage]["variants"]))
    calls = [
        ("overview page", "/"),
        ("overview API", "/api/experiment"),
        ("stage page", f"/stages/{stage}"),
        ("stage API (first)", f"/api/stages/{stage}"),
        ("stage API (cached)", f"/api/stages/{stage}"),
        ("stage API sorted by metric", f"/api/stages/{stage}?sort=best_metric&desc=1"),
        ("stage curves (first read)", f"/api/stages/{stage}/curves"),
        ("stage curves (cached)", f"/api/stages/{stage}/curves"),
        ("variant page", f"/variants/{vid}"),
        ("variant API", f"/api/variants/{vid}"),
        ("variant scalars", f"/api/variants/{vid}/scalars"),
        ("overview API again", "/api/experiment"),
    ]
    times: dict[str, float] = {}
    for label, url in calls:
        start = time.perf_counter()
        response = client.get(url)
        body = response.get_data()
        times[label] = time.perf_counter() - start
        if response.status_code != 200 or not body:
            raise RuntimeError(f"{url}: {response.status_code}")
    return times


def main() -> None:
    """Build the folder in a temporary place, print the times and whether they meet the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=1000)
    parser.add_argument("--stages", type=int, default=5)
    parser.add_argument("--points", type=int, default=100)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        start = time.perf_counter()
        out = build_folder(tmp, args.variants, args.stages, args.points)
        print(
            f"built {args.variants} variants x {args.points} points over {args.stages} stages "
            f"in {time.perf_counter() - start:.1f} s"
        )
        times = measure(out)
    for label, seconds in times.items():
        print(f"{label:32s} {seconds * 1000:8.1f} ms")
    worst = max(
        times["overview page"] + times["overview API"],
        times["stage page"] + times["stage API (first)"],
    )
    verdict = "OK" if worst < TARGET_S else "TOO SLOW"
    print(
        f"overview / stage page with its data: worst {worst * 1000:.0f} ms "
        f"(target < {TARGET_S * 1000:.0f} ms): {verdict}"
    )
    sys.exit(0 if worst < TARGET_S else 1)


if __name__ == "__main__":
    main()
