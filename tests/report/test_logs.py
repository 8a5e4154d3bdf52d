"""The live console: a server-sent event stream that follows the log file like tail -f."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flambe.experiment.progress import write_json_atomic
from flambe.report.app import create_app
from tests.report.helpers import TRAIN, read_progress

A4 = TRAIN["lr=0.01,layers=2"][0]


def events(response: Any) -> Iterator[tuple]:
    """(event name, data) of a server-sent event stream."""
    buffer = ""
    for chunk in response.response:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            name, data = "message", None
            for line in block.splitlines():
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data = json.loads(line[6:])
            if data is not None:
                yield name, data


def test_the_console_stream_follows_a_running_experiment(experiment: Path) -> None:
    progress = read_progress(str(experiment))
    progress["status"] = "running"
    write_json_atomic(str(experiment / "progress.json"), progress)
    log = experiment / "console.log"
    start = log.read_text()
    client = create_app(str(experiment)).test_client()
    response = client.get("/api/logs/stream", buffered=False)
    assert response.mimetype == "text/event-stream"
    lines = [f"train/lr=0.1,layers=1 step {i}: Accuracy 0.{i}\n" for i in range(1, 6)]

    def appender() -> None:
        for line in lines:
            time.sleep(0.3)
            with open(log, "a", encoding="utf-8") as handle:
                handle.write(line)
        time.sleep(0.3)
        progress["status"] = "success"  # the experiment ends: the stream ends after a moment
        write_json_atomic(str(experiment / "progress.json"), progress)

    thread = threading.Thread(target=appender)
    thread.start()
    received: list[str] = []
    names: list[str] = []
    started = time.monotonic()
    for name, data in events(response):
        names.append(name)
        if name == "message":
            received.append(data["text"])
    thread.join()
    assert "".join(received) == start + "".join(lines)
    assert len(received) >= 3, "lines arrive as they are written, not all at the end"
    assert names[-1] == "end" and time.monotonic() - started < 15


def test_a_finished_experiments_stream_ends(client: Any, experiment: Path) -> None:
    got = list(events(client.get("/api/logs/stream", buffered=False)))
    assert got[0] == (
        "message",
        {
            "text": (experiment / "console.log").read_text(),
            "offset": (experiment / "console.log").stat().st_size,
        },
    )
    assert got[-1][0] == "end"
    got = list(events(client.get(f"/api/variants/{A4}/log/stream", buffered=False)))
    assert "RuntimeError: CUDA out of memory" in got[0][1]["text"] and got[-1][0] == "end"
    # from an offset: only what comes after it
    got = list(events(client.get("/api/logs/stream?offset=5", buffered=False)))
    assert got[0][1]["text"] == (experiment / "console.log").read_text()[5:]


def test_a_missing_log_waits_then_ends(experiment: Path) -> None:
    (experiment / "console.log").unlink()
    app = create_app(str(experiment))
    app.config["STREAM_IDLE_END_S"] = 0.3
    client = app.test_client()
    assert client.get("/api/logs").get_json()["exists"] is False
    got = list(events(client.get("/api/logs/stream", buffered=False)))
    assert got == [("end", {"offset": 0})]
