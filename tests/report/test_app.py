"""Every page and JSON endpoint of the report site, with Flask's test client on real files."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from flambe.report.app import create_app, plotly_js_path
from tests.report.helpers import CHECKPOINT_BYTES, DATASET_ID, EVALUATE, TRAIN, read_progress

A1, A2, A3, A4 = (TRAIN[n][0] for n in TRAIN)


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.lstat().st_size, p.lstat().st_mtime_ns)
        for p in folder.rglob("*")
    }


def test_overview_api_reads_header_stages_counts_and_dag(client: Any, experiment: Path) -> None:
    data = client.get("/api/experiment").get_json()
    assert data["name"] == "small" and data["status"] == "success"
    assert data["seed"] == 1234 and data["fingerprint"] == "ab" * 20
    assert data["output_folder"] == str(experiment.resolve())
    assert data["hosts"] is None and data["total_variants"] == 7
    stages = {s["name"]: s for s in data["stages"]}
    assert list(stages) == ["dataset", "train", "evaluate"]
    train = stages["train"]
    assert train["status"] == "failure" and train["total"] == 4 and train["reduce"] == 2
    assert {k: train["counts"][k] for k in ("success", "reduced", "failure", "pending")} == {
        "success": 2,
        "reduced": 1,
        "failure": 1,
        "pending": 0,
    }
    assert train["elapsed"] == pytest.approx(75, abs=0.01)
    assert data["elapsed"] == pytest.approx(95, abs=0.01)
    # evaluate depends on dataset and train: only the direct edge train -> evaluate is drawn
    assert sorted(map(tuple, data["dag"]["edges"])) == [("dataset", "train"), ("train", "evaluate")]
    nodes = data["dag"]["nodes"]
    assert nodes["dataset"]["x"] < nodes["train"]["x"] < nodes["evaluate"]["x"]
    assert data["console_log"] is True


def test_hosts_of_a_cluster_run_are_shown(experiment: Path) -> None:
    run = json.loads((experiment / "run.json").read_text())
    run["hosts"] = ["orchestrator", "factory-1", "factory-2"]
    (experiment / "run.json").write_text(json.dumps(run))
    client = create_app(str(experiment)).test_client()
    assert client.get("/api/experiment").get_json()["hosts"] == 3


def test_a_folder_without_progress_waits(tmp_path: Path) -> None:
    client = create_app(str(tmp_path / "not-yet")).test_client()
    data = client.get("/api/experiment").get_json()
    assert data["status"] == "waiting" and "waiting for the experiment" in data["message"]
    assert client.get("/").status_code == 200


def test_stage_api_rows_metric_reasons_and_errors(client: Any) -> None:
    data = client.get("/api/stages/train?sort=best_metric&desc=1").get_json()
    assert data["metric"] == {"name": "Accuracy", "direction": "max", "recorded": True}
    assert data["params"] == ["lr", "layers"] and data["reduce"] == 2
    rows = data["rows"]
    assert [r["id"] for r in rows] == [A2, A1, A3, A4]
    by_id = {r["id"]: r for r in rows}
    assert by_id[A2]["reason"] == "kept: rank 1 of 3, reduce keeps 2"
    assert by_id[A1]["reason"] == "kept: rank 2 of 3, reduce keeps 2"
    assert by_id[A3]["reason"] == "reduced: rank 3 of 3, reduce keeps 2"
    assert by_id[A4]["reason"] is None and by_id[A4]["has_error"]
    assert by_id[A4]["error"] == "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB"
    assert by_id[A2]["last_metric"] == pytest.approx(0.95)
    assert by_id[A2]["best_metric"] == pytest.approx(0.95)
    assert by_id[A2]["step"] == 4 and by_id[A2]["total_steps"] == 4
    assert by_id[A2]["params"] == {"lr": 0.1, "layers": 2}
    assert by_id[A2]["duration"] is not None and by_id[A2]["duration"] >= 0


def test_stage_api_sorts_filters_and_pages(client: Any) -> None:
    def ids(query: str) -> list:
        return [r["id"] for r in client.get("/api/stages/train" + query).get_json()["rows"]]

    assert ids("?sort=param:layers&desc=0")[:2] in ([A1, A3], [A3, A1])
    assert ids("?sort=name") == [A3, A4, A1, A2]  # lr=0.01... sorts before lr=0.1...
    assert ids("?q=lr%3D0.1") == [A1, A2]
    assert ids("?q=cuda") == [A4]
    assert ids("?status=reduced") == [A3]
    assert ids("?status=failure") == [A4]
    page = client.get("/api/stages/train?sort=name&offset=1&limit=2").get_json()
    assert [r["id"] for r in page["rows"]] == [A4, A1]
    assert page["matching"] == 4 and page["total"] == 4
    assert client.get("/api/stages/train?offset=x").status_code == 400


def test_stage_curves_come_from_the_event_files(client: Any) -> None:
    data = client.get("/api/stages/train/curves").get_json()
    assert data["metric"] == "Accuracy"
    series = {v["id"]: v for v in data["variants"]}
    for name, (vid, params, _, values) in TRAIN.items():
        assert series[vid]["tag"] == "Validation/Accuracy"
        assert series[vid]["steps"] == list(range(len(values)))
        assert series[vid]["values"] == pytest.approx(values)
        assert series[vid]["params"] == params and series[vid]["name"] == name


def test_variant_api_lineage_checkpoint_and_snippet(client: Any, experiment: Path) -> None:
    data = client.get(f"/api/variants/{A1}").get_json()
    assert data["stage"] == "train" and data["name"] == "lr=0.1,layers=1"
    assert data["lineage"] == [
        {"stage": "dataset", "id": DATASET_ID, "name": "default", "status": "success"}
    ]
    assert [u["id"] for u in data["used_by"]] == [EVALUATE["from-a1"][0]]
    files = {f["path"]: f["size"] for f in data["checkpoint_files"]}
    assert files == {
        "train/lr=0.1,layers=1/checkpoint/model/config.yaml": 15,
        "train/lr=0.1,layers=1/checkpoint/state.pt": CHECKPOINT_BYTES,
    }
    assert data["checkpoint_size"] == CHECKPOINT_BYTES + 15
    checkpoint = str((experiment / "train" / "lr=0.1,layers=1" / "checkpoint").resolve())
    assert data["load_snippet"] == f"import flambe\ntrain = flambe.load({checkpoint!r})"
    assert data["reason"] == "kept: rank 2 of 3, reduce keeps 2" and data["has_log"]
    failed = client.get(f"/api/variants/{A4}").get_json()
    assert failed["error"].startswith("Traceback") and "loss.backward()" in failed["error"]
    assert client.get(f"/api/variants/{A1[:8]}").get_json()["id"] == A1  # a unique prefix


def test_variant_scalars_every_tag(client: Any) -> None:
    data = client.get(f"/api/variants/{A2}/scalars").get_json()
    assert sorted(data["scalars"]) == ["Best/Accuracy", "Training/Loss", "Validation/Accuracy"]
    assert data["scalars"]["Validation/Accuracy"]["values"] == pytest.approx(
        TRAIN["lr=0.1,layers=2"][3]
    )
    assert data["scalars"]["Training/Loss"]["steps"] == [0, 10, 20, 30]


def test_a_copied_folder_reads_checkpoints_from_the_copy(experiment: Path) -> None:
    # progress.json records the paths of the machine that ran it
    text = (experiment / "progress.json").read_text().replace(str(experiment), "/elsewhere/out")
    (experiment / "progress.json").write_text(
        text.replace('"output_path": "' + str(experiment), '"output_path": "/elsewhere/out')
    )
    client = create_app(str(experiment)).test_client()
    data = client.get(f"/api/variants/{A1}").get_json()
    assert data["checkpoint"] == str((experiment / "train/lr=0.1,layers=1/checkpoint").resolve())


def test_pages_render_and_link_only_to_the_site(client: Any) -> None:
    for url, needle in [
        ("/", "Pipeline"),
        ("/stages/train", "Metric by step"),
        (f"/variants/{A1}", "Checkpoint"),
        ("/logs", "Console"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.get_data(as_text=True)
        assert needle in html
        # every script and stylesheet comes from the site itself: no CDN, works offline
        for ref in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert ref.startswith(("/", "#")), (url, ref)
    assert '<script src="/vendor/plotly.min.js">' in client.get("/stages/train").get_data(
        as_text=True
    )
    assert client.get("/stages/nothing").status_code == 404
    assert client.get("/variants/nothing").status_code == 404
    assert client.get("/api/stages/nothing").get_json() == {"error": "Not Found", "status": 404}
    assert client.get("/api/variants/nothing/scalars").status_code == 404


def test_plotly_js_is_served_from_the_plotly_package(client: Any) -> None:
    response = client.get("/vendor/plotly.min.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    body = response.get_data()
    with open(plotly_js_path(), "rb") as handle:
        assert body == handle.read()
    assert b"plotly.js" in body[:2000]
    for name in ("site.js", "site.css"):
        assert client.get(f"/static/{name}").status_code == 200


def test_logs_api_reads_chunks_from_an_offset(client: Any, experiment: Path) -> None:
    text = (experiment / "console.log").read_text()
    data = client.get("/api/logs").get_json()
    assert data["text"] == text and data["offset"] == len(text.encode()) and not data["more"]
    rest = client.get(f"/api/logs?offset={data['offset'] - 10}").get_json()
    assert rest["text"] == text[-10:]
    # a log that was truncated (rotated) is read again from its start
    assert client.get("/api/logs?offset=999999").get_json()["text"] == text
    log = client.get(f"/api/variants/{A4}/log").get_json()
    assert "RuntimeError: CUDA out of memory" in log["text"]
    assert client.get("/state").get_json() == read_progress(str(experiment))


def test_files_route_sends_a_file_of_the_folder(client: Any) -> None:
    response = client.get("/files/train/lr=0.1,layers=1/checkpoint/model/config.yaml")
    assert response.status_code == 200 and response.data == b"!MLPEncoder {}\n"
    assert client.get("/files/train").status_code == 404  # a folder is no file


def test_no_route_writes_and_only_get_is_allowed(client: Any, experiment: Path) -> None:
    before = snapshot(experiment)
    urls = [
        "/",
        "/api/experiment",
        "/stages/train",
        "/api/stages/train",
        "/api/stages/train/curves",
        f"/variants/{A1}",
        f"/api/variants/{A1}",
        f"/api/variants/{A1}/scalars",
        f"/api/variants/{A1}/log",
        "/logs",
        "/api/logs",
        "/download",
        "/download/train",
        f"/download/train/{A1}",
        "/download_logs",
        "/download_logs/train",
        f"/download_logs/train/{A1}",
        "/state",
        "/files/run.json",
    ]
    for url in urls:
        assert client.get(url).status_code == 200, url
        for method in ("post", "put", "delete", "patch"):
            assert getattr(client, method)(url).status_code == 405, (method, url)
    assert snapshot(experiment) == before


def test_errors_never_show_a_traceback(experiment: Path) -> None:
    progress = read_progress(str(experiment))
    progress["stages"]["train"]["variants"] = ["not", "a", "mapping"]  # a damaged document
    (experiment / "progress.json").write_text(json.dumps(progress))
    app = create_app(str(experiment))
    assert app.debug is False
    client = app.test_client()
    for url in ("/api/stages/train", "/stages/train"):
        response = client.get(url)
        assert response.status_code == 500
        body = response.get_data(as_text=True)
        assert "internal error" in body
        assert "Traceback" not in body and "AttributeError" not in body and ".py" not in body


def test_metric_name_falls_back_to_the_configs_metric_fn(experiment: Path) -> None:
    # an older run recorded no metric name: the stage's metric_fn in experiment.yaml names it
    text = (
        (experiment / "progress.json")
        .read_text()
        .replace('"metric_name": "Accuracy"', '"metric_name": null')
    )
    (experiment / "progress.json").write_text(text)
    for trial in experiment.glob("*/*/trial.json"):
        data = json.loads(trial.read_text())
        data.pop("metric_name")
        trial.write_text(json.dumps(data))
    client = create_app(str(experiment)).test_client()
    assert client.get("/api/stages/train").get_json()["metric"]["name"] == "Accuracy"
    curves = client.get("/api/stages/train/curves").get_json()
    assert {v["tag"] for v in curves["variants"]} == {"Validation/Accuracy"}
    os.remove(experiment / "experiment.yaml")
    client = create_app(str(experiment)).test_client()
    stage = client.get("/api/stages/train").get_json()
    assert stage["metric"] == {"name": "metric", "direction": "max", "recorded": False}
    # without a name, the tag whose last value is the variant's last metric is the curve
    curves = client.get("/api/stages/train/curves").get_json()
    assert {v["tag"] for v in curves["variants"]} == {"Validation/Accuracy"}
