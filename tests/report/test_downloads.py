"""Archives of the experiment, a stage and a variant, streamed while they are written."""

from __future__ import annotations

import io
import os
import tarfile
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from flambe.report.app import create_app
from flambe.report.archive import CHUNK
from tests.report.helpers import TRAIN

A1 = TRAIN["lr=0.1,layers=1"][0]
V1 = "train/lr=0.1,layers=1"


def archive(client: Any, url: str) -> tuple:
    response = client.get(url, buffered=False)
    assert response.status_code == 200, url
    assert response.is_streamed and response.mimetype == "application/x-tar"
    chunks: list[bytes] = list(response.response)
    body = b"".join(chunks)
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        names = {m.name: m for m in tar.getmembers()}
        contents = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    return response.headers["Content-Disposition"], names, contents, chunks


@pytest.mark.parametrize(
    "url, filename, root",
    [
        ("/download", "experiment.tar", "experiment"),
        ("/download/train", "experiment-train.tar", "experiment-train"),
        (
            f"/download/train/{A1}",
            "experiment-train-lr=0.1,layers=1.tar",
            "experiment-train-lr=0.1,layers=1",
        ),
        (
            "/download/train/lr=0.1,layers=1",
            "experiment-train-lr=0.1,layers=1.tar",
            "experiment-train-lr=0.1,layers=1",
        ),
    ],
)
def test_full_archives_hold_every_file(
    client: Any, experiment: Path, url: str, filename: str, root: str
) -> None:
    disposition, names, contents, _ = archive(client, url)
    assert f'filename="{filename}"' in disposition
    assert all(n == root or n.startswith(root + "/") for n in names)
    base = {"/download": experiment, "/download/train": experiment / "train"}.get(
        url, experiment / V1
    )
    expected = {root + "/" + str(p.relative_to(base)) for p in base.rglob("*") if p.is_file()}
    assert set(contents) == expected
    for name, data in contents.items():
        assert data == (base / name[len(root) + 1 :]).read_bytes()


@pytest.mark.parametrize(
    "url, filename",
    [
        ("/download_logs", "experiment-logs.tar"),
        ("/download_logs/train", "experiment-train-logs.tar"),
        (f"/download_logs/train/{A1}", "experiment-train-lr=0.1,layers=1-logs.tar"),
    ],
)
def test_logs_archives_leave_out_weights_and_checkpoints(
    client: Any, experiment: Path, url: str, filename: str
) -> None:
    (experiment / V1 / "weights.pt").write_bytes(b"w" * 100)  # weights outside a checkpoint
    (experiment / V1 / "notes.txt").write_text("kept")
    disposition, names, contents, _ = archive(client, url)
    assert any(n.endswith("/notes.txt") for n in contents)
    assert f'filename="{filename}"' in disposition
    assert contents, "a logs archive is not empty"
    assert not [n for n in contents if n.endswith(".pt") or "/checkpoint/" in n]
    assert any(n.endswith("console.out") for n in contents)
    assert any("events.out.tfevents" in n for n in contents)
    assert any(n.endswith("trial.json") for n in contents)


def test_unknown_stage_or_variant_is_404(client: Any) -> None:
    for url in (
        "/download/nothing",
        "/download/train/nothing",
        "/download_logs/nothing/x",
        f"/download/evaluate/{A1}",
    ):
        assert client.get(url).status_code == 404, url


def test_links_in_the_folder_are_not_followed(experiment: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("TOP SECRET")
    os.symlink(outside, experiment / "train" / "link-out")
    os.symlink(outside / "secret.txt", experiment / V1 / "secret.txt")
    client = create_app(str(experiment)).test_client()
    _, names, contents, _ = archive(client, "/download")
    assert not [n for n in names if "secret" in n or "link-out" in n]
    assert all(b"TOP SECRET" not in data for data in contents.values())


def test_a_large_file_streams_in_small_chunks(experiment: Path) -> None:
    big = experiment / V1 / "checkpoint" / "big.pt"
    size = 256 * CHUNK + 123  # 256 MiB, sparse: nothing written to disk
    with open(big, "wb") as handle:
        handle.truncate(size)
    client = create_app(str(experiment)).test_client()
    response = client.get(f"/download/train/{A1}", buffered=False)
    tracemalloc.start()
    total = largest = 0
    header_seen = False
    for chunk in response.response:
        total += len(chunk)
        largest = max(largest, len(chunk))
        header_seen = header_seen or b"big.pt" in chunk[:2048]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert header_seen
    assert total > size and largest <= CHUNK
    assert peak < 16 * CHUNK, f"the archive was held in memory: peak {peak} bytes"
