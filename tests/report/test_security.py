"""Tokens, and every path from a URL confined to the output folder (real server, raw requests)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flambe.report.app import create_app
from flambe.report.security import COOKIE, is_loopback
from tests.report.helpers import TRAIN, read_progress
from tests.report.serving import SiteProcess, free_port, raw_get

A1 = TRAIN["lr=0.1,layers=1"][0]
SECRET = "TOP SECRET outside the output folder"

HOSTILE = [
    "/files/../outside.txt",
    "/files/..%2foutside.txt",
    "/files/%2e%2e/outside.txt",
    "/files/%2e%2e%2foutside.txt",
    "/files//etc/passwd",
    "/files/%2Fetc%2Fpasswd",
    "/files/train/../../outside.txt",
    "/files/train/%2e%2e/%2e%2e/outside.txt",
    "/files/train/link-out/secret.txt",
    "/files/train/lr=0.1,layers=1/secret-link.txt",
    "/files/..%5c..%5coutside.txt",
    "/files/run.json%00/../../outside.txt",
    "/files/~/outside.txt",
    "/files/....//....//outside.txt",
    "/stages/..%2f..%2foutside.txt",
    "/variants/..%2f..%2foutside.txt",
    "/api/variants/..%2foutside.txt/log",
    "/download/..%2f..",
    "/download/train/..%2f..%2f..",
    "/download_logs/train/..",
    "/static/../app.py",
    "/static/..%2fapp.py",
    "/vendor/..%2f..%2fapp.py",
]


def plant_outside(experiment: Path) -> None:
    outside = experiment.parent / "outside.txt"
    outside.write_text(SECRET)
    folder = experiment.parent / "outside-folder"
    folder.mkdir(exist_ok=True)
    (folder / "secret.txt").write_text(SECRET)
    (experiment / "train" / "link-out").symlink_to(folder)
    (experiment / "train" / "lr=0.1,layers=1" / "secret-link.txt").symlink_to(outside)


@pytest.fixture
def served(experiment: Path) -> Iterator[tuple]:
    plant_outside(experiment)
    port = free_port()
    site = SiteProcess([str(experiment), "--port", str(port)])
    try:
        yield port, experiment
    finally:
        output = site.stop()
        assert site.process.returncode == 0, output
        assert "Report site stopped." in output


def test_hostile_paths_are_refused_by_the_real_server(served: tuple) -> None:
    port, experiment = served
    assert len(HOSTILE) >= 10
    assert raw_get(port, "/files/run.json")[0] == 200  # the route works for a real file
    for path in HOSTILE:
        status, body = raw_get(port, path)
        assert status in (400, 404), (path, status)
        assert SECRET.encode() not in body and b"root:" not in body, path


def test_hostile_paths_with_the_test_client(experiment: Path) -> None:
    plant_outside(experiment)
    client = create_app(str(experiment)).test_client()
    for path in HOSTILE:
        response = client.get(path)
        assert response.status_code in (400, 404), path
        assert SECRET.encode() not in response.data


def test_hostile_names_inside_progress_json_stay_inside(experiment: Path) -> None:
    plant_outside(experiment)
    progress = read_progress(str(experiment))
    progress["stages"]["train"]["variants"]["evil" * 10] = {
        "name": "../../outside-folder",
        "params": {},
        "lineage": {},
        "status": "success",
        "step": 1,
        "checkpoint": "/etc",
        "error": None,
    }
    (experiment / "progress.json").write_text(json.dumps(progress))
    client = create_app(str(experiment)).test_client()
    data = client.get("/api/variants/" + "evil" * 10).get_json()
    assert data["checkpoint"] is None and data["checkpoint_files"] == []
    assert data["folder"] is None and data["has_log"] is False
    for url in (
        "/download/train/" + "evil" * 10,
        "/api/variants/" + "evil" * 10 + "/log",
        "/api/variants/" + "evil" * 10 + "/scalars",
    ):
        response = client.get(url)
        assert SECRET.encode() not in response.data, url
        assert response.status_code in (200, 404)
    assert client.get("/download/train/" + "evil" * 10).status_code == 404


def test_token_is_required_when_set(experiment: Path) -> None:
    client = create_app(str(experiment), token="s3cret-token").test_client()
    for url in (
        "/",
        "/api/experiment",
        "/stages/train",
        "/download",
        "/vendor/plotly.min.js",
        "/static/site.js",
        "/api/logs/stream",
        "/files/run.json",
    ):
        response = client.get(url)
        assert response.status_code == 401, url
        assert b"token" in response.data
        assert client.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get(url + "?token=wrong").status_code == 401
    assert (
        client.get("/api/experiment", headers={"Authorization": "Bearer s3cret-token"}).status_code
        == 200
    )
    # the token in the URL once: a cookie carries it for the pages' own requests
    response = client.get("/?token=s3cret-token")
    assert response.status_code == 200
    assert f"{COOKIE}=s3cret-token" in response.headers["Set-Cookie"]
    assert "HttpOnly" in response.headers["Set-Cookie"]
    assert client.get("/api/experiment").status_code == 200  # the cookie now
    fresh = create_app(str(experiment), token="s3cret-token").test_client()
    fresh.set_cookie(COOKIE, "wrong")
    assert fresh.get("/api/experiment").status_code == 401


def test_a_public_address_gets_a_generated_token(experiment: Path) -> None:
    port = free_port()
    site = SiteProcess([str(experiment), "--host", "0.0.0.0", "--port", str(port)])
    try:
        assert "?token=" in site.url
        token = site.url.split("?token=")[1]
        assert len(token) >= 32
        assert raw_get(port, "/api/experiment")[0] == 401
        assert raw_get(port, "/")[0] == 401
        assert raw_get(port, f"/api/experiment?token={token}")[0] == 200
        assert raw_get(port, "/api/experiment", {"Authorization": f"Bearer {token}"})[0] == 200
    finally:
        site.stop()


def test_a_token_from_the_environment(experiment: Path) -> None:
    port = free_port()
    site = SiteProcess(
        [str(experiment), "--port", str(port)], env={"FLAMBE_SITE_TOKEN": "from-the-env"}
    )
    try:
        assert site.url.endswith("?token=from-the-env")
        assert raw_get(port, "/api/experiment")[0] == 401
        assert raw_get(port, "/api/experiment?token=from-the-env")[0] == 200
    finally:
        site.stop()


def test_loopback_detection() -> None:
    assert all(map(is_loopback, ["127.0.0.1", "127.0.0.2", "::1", "localhost"]))
    assert not any(map(is_loopback, ["0.0.0.0", "::", "10.0.0.1", "192.168.1.2", "example"]))


def test_responses_forbid_framing_and_sniffing(client: Any) -> None:
    headers = client.get("/").headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"


def test_without_a_token_only_loopback_names_are_served(client: Any) -> None:
    for host in ("localhost", "127.0.0.1:49558", "[::1]:49558", "localhost:80"):
        assert client.get("/api/experiment", headers={"Host": host}).status_code == 200, host
    for host in ("evil.example", "evil.example:49558", "10.0.0.1", "[2001:db8::1]:49558"):
        response = client.get("/api/experiment", headers={"Host": host})
        assert response.status_code == 403, host
        assert b"localhost only" in response.data
