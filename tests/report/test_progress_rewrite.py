"""The progress file rewritten while the site reads it: never an error, never half a document."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flambe.experiment.progress import write_json_atomic
from flambe.report.app import create_app
from tests.report.helpers import read_progress


def versions(experiment: Path, count: int) -> list:
    """Progress documents that differ in size: version k has k padding variants in train."""
    base = read_progress(str(experiment))
    docs = []
    for k in range(count):
        doc = json.loads(json.dumps(base))
        doc["version"] = k
        for i in range(k % 40):
            doc["stages"]["train"]["variants"][f"pad{i:04d}"] = {
                "name": f"pad-{i}",
                "params": {"lr": i},
                "lineage": {},
                "status": "pending",
                "step": 0,
                "last_metric": None,
                "best_metric": None,
                "checkpoint": None,
                "error": None,
                "reused": False,
            }
        docs.append(doc)
    return docs


def torn_write(path: Path, doc: dict[str, Any]) -> None:
    """A writer that is not atomic: truncate, half the text, a pause, the rest."""
    text = json.dumps(doc)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text[: len(text) // 2])
        handle.flush()
        time.sleep(0.002)
        handle.write(text[len(text) // 2 :])


@pytest.mark.parametrize(
    "write",
    [write_json_atomic, torn_write],
    ids=["atomic (the engine)", "torn (a copy being synced)"],
)
def test_reads_during_rewrites(experiment: Path, write: Callable) -> None:
    docs = versions(experiment, 400)
    path = experiment / "progress.json"
    client = create_app(str(experiment)).test_client()
    stop = threading.Event()

    def writer() -> None:
        k = 0
        while not stop.is_set():
            write(path if write is torn_write else str(path), docs[k % len(docs)])
            k += 1
            time.sleep(0.005)  # a rewrite every few milliseconds: far more often than a run

    thread = threading.Thread(target=writer)
    thread.start()
    seen = set()
    try:
        deadline = time.monotonic() + 4
        reads = 0
        while time.monotonic() < deadline and reads < 300:
            reads += 1
            response = client.get("/api/experiment")
            assert response.status_code == 200
            data = response.get_json()
            train = next(s for s in data["stages"] if s["name"] == "train")
            # whole documents only: counts and totals agree with one written version
            assert train["total"] == 4 + train["counts"]["pending"]
            assert (
                sum(train["counts"][k] for k in ("pending", "success", "reduced", "failure"))
                == train["total"]
            )
            seen.add(train["total"])
            stage = client.get("/api/stages/train?limit=1000")
            assert stage.status_code == 200
            assert stage.get_json()["total"] == len(stage.get_json()["rows"])
    finally:
        stop.set()
        thread.join()
    assert len(seen) > 1, "the reads should have seen several versions"
