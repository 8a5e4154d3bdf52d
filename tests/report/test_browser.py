"""The report site of a running experiment in a real headless Chromium (selenium).

A shortened ``examples/moons.yaml`` runs with ``flambe run --site-keep``; the
browser loads the overview while it runs, sees the DAG, sees a stage's
status change without a reload, opens a stage page with a plotted curve,
opens a variant and downloads it. Screenshots of the overview and of a stage
page are written under the test's folder (set FLAMBE_REPORT_SCREENSHOTS to a
folder to keep copies, as docs/report.md shows them). Needs Debian's
``chromium`` and ``chromium-driver`` (.ci/run installs them).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flambe.report.app import create_app
from tests.report.serving import free_port, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.timeout(720)]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def answers(url: str) -> bool:
    try:
        get_json(url)
        return True
    except OSError:
        return False


@pytest.fixture
def running(tmp_path: Path, repo_root: Path) -> Iterator[tuple]:
    """``flambe run moons.yaml --site-keep``: (site URL, run process, work folder)."""
    text = (repo_root / "examples" / "moons.yaml").read_text()
    data = repo_root / "examples" / "data" / "moons.csv"
    text = text.replace("moons: data/moons.csv", f"moons: {data}").replace(
        "max_steps: 6", "max_steps: 3"
    )
    assert str(data) in text and "max_steps: 3" in text
    (tmp_path / "moons.yaml").write_text(text)
    port = free_port()
    log = open(tmp_path / "run.log", "w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flambe.cli",
            "run",
            "moons.yaml",
            "--site-keep",
            "--site-port",
            str(port),
        ],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        assert wait_for(lambda: answers(url + "api/experiment"), timeout=90), (
            tmp_path / "run.log"
        ).read_text()
        yield url, process, tmp_path
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=60)
        log.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.fail(
            "chromium and chromedriver are needed: apt-get install chromium "
            "chromium-driver (.ci/run does it)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1400,1000",
        "--no-first-run",
        "--disable-extensions",
    ):
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def keep_screenshot(path: Path) -> None:
    target = os.environ.get("FLAMBE_REPORT_SCREENSHOTS")
    if target:
        os.makedirs(target, exist_ok=True)
        shutil.copy(path, os.path.join(target, path.name))


def stage_status(driver: Any, stage: str) -> str:
    return driver.execute_script(
        "const n = document.querySelector(`#dag g.stage-node[data-stage='${arguments[0]}']`);"
        "return n ? n.getAttribute('data-status') : null;",
        stage,
    )


def click(driver: Any, selector: str) -> None:
    """Click an element of a page that redraws itself while the experiment runs."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    for _ in range(10):
        try:
            driver.find_element(By.CSS_SELECTOR, selector).click()
            return
        except StaleElementReferenceException:
            time.sleep(0.1)
    raise AssertionError(f"{selector} kept being redrawn")


def test_the_site_of_a_running_experiment(running: tuple, browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, process, work = running
    wait = WebDriverWait(browser, 300, poll_frequency=0.25)
    browser.get(url)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#dag g.stage-node")) == 3)
    assert browser.find_element(By.ID, "experiment-name").text == "moons"
    edges = browser.find_elements(By.CSS_SELECTOR, "#dag path.edge")
    assert {(e.get_attribute("data-from"), e.get_attribute("data-to")) for e in edges} == {
        ("dataset", "train"),
        ("train", "evaluate"),
    }
    browser.execute_script("window.__sameDocument = 'yes';")
    first = stage_status(browser, "train")
    assert first in ("pending", "running"), f"the run ended too early to watch: {first}"
    assert process.poll() is None, "the experiment should still be running"
    # the train stage finishes while the page stays open: the DAG follows without a reload
    wait.until(lambda d: stage_status(d, "train") in ("success", "failure"))
    assert stage_status(browser, "train") == "success"
    assert browser.execute_script("return window.__sameDocument") == "yes"
    # expand the train stage into its variants, with the kept one marked
    click(browser, "#dag g.stage-node[data-stage='train'] text.counts")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#dag g.variant-node")) == 4)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#dag g.variant-node.kept")) == 1
    assert browser.find_elements(By.CSS_SELECTOR, "#dag path.lineage")
    overview_png = tmp_path / "report-overview.png"
    browser.save_screenshot(str(overview_png))
    assert overview_png.stat().st_size > 20_000
    keep_screenshot(overview_png)

    # the stage page: table, curves with points, parallel coordinates
    browser.get(url + "stages/train")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#variants tbody tr")) == 4)
    curves = get_json(url + "api/stages/train/curves")
    plotted = [v for v in curves["variants"] if v["steps"]]
    assert plotted, curves
    wait.until(
        lambda d: (
            int(d.find_element(By.ID, "curves").get_attribute("data-traces") or 0) == len(plotted)
        )
    )
    points = browser.find_elements(By.CSS_SELECTOR, "#curves .scatterlayer .trace .points path")
    assert len(points) == sum(len(v["steps"]) for v in plotted), "a point per logged step"
    lines = browser.find_elements(By.CSS_SELECTOR, "#curves .scatterlayer .trace path.js-line")
    assert lines and all(len(line.get_attribute("d")) > 10 for line in lines)
    # parallel coordinates: one axis per parameter, and the metric
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#parcoords .y-axis")) == 3)
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#variants thead th")]
    assert "n_layers" in headers and "lr" in headers and any("Accuracy" in h for h in headers)
    kept = browser.find_element(By.CSS_SELECTOR, "#variants tbody tr[data-status='success']")
    assert "kept: rank 1 of 4, reduce keeps 1" in kept.text
    stage_png = tmp_path / "report-stage.png"
    browser.save_screenshot(str(stage_png))
    assert stage_png.stat().st_size > 20_000
    keep_screenshot(stage_png)

    # the kept variant's page, its scalars, and its download
    browser.get(kept.find_element(By.CSS_SELECTOR, "a").get_attribute("href"))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#scalars .plot .scatterlayer .trace"))
    assert browser.find_element(By.ID, "snippet").text.startswith("import flambe\ntrain = ")
    vid = browser.find_element(By.TAG_NAME, "body").get_attribute("data-variant")
    browser.find_element(By.ID, "download-variant").click()
    downloads = tmp_path / "downloads"
    assert wait_for(lambda: any(p.suffix == ".tar" for p in downloads.iterdir()), timeout=60)
    (archive,) = [p for p in downloads.iterdir() if p.suffix == ".tar"]
    name = get_json(url + f"api/variants/{vid}")["name"]
    assert archive.name == f"experiment-train-{name}.tar"
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert f"experiment-train-{name}/trial.json" in names
    assert any(n.endswith(".pt") for n in names)

    # the run ends; with --site-keep its site serves on until Ctrl-C
    assert wait_for(lambda: get_json(url + "api/experiment")["status"] != "running", timeout=400), (
        work / "run.log"
    ).read_text()
    assert get_json(url + "api/experiment")["status"] == "success"
    assert wait_for(
        lambda: "The report site goes on" in (work / "run.log").read_text(), timeout=120
    ), (work / "run.log").read_text()
    assert process.poll() is None and answers(url + "api/experiment")
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0, (work / "run.log").read_text()
    assert not answers(url + "api/experiment")
    log = (work / "run.log").read_text()
    output = work / "flambe-output" / "output__moons"
    assert f"Report site: flambe site {output}" in log
    assert "Experiment moons: success" in (output / "console.log").read_text()
    # the variant page's snippet loads the checkpoint, run as written
    client = create_app(str(output)).test_client()
    snippet = client.get(f"/api/variants/{vid}").get_json()["load_snippet"]
    result = subprocess.run(
        [sys.executable, "-c", snippet + "\nprint(type(train).__name__)"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-1] == "Trainer"
