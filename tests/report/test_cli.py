"""``flambe site``, ``flambe-site``, and what ``flambe run`` says and starts for the site."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from flambe.cli import report_site as core_site
from flambe.report import tensorboard as tb
from flambe.report.app import create_app
from tests.report.serving import SiteProcess, free_port, raw_get, wait_for

FLAMBE = [sys.executable, "-m", "flambe.cli"]


def run(*args: str, env: Any = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(args), capture_output=True, text=True, timeout=120, env=dict(os.environ, **(env or {}))
    )


def test_site_help_and_plugins_list_the_command() -> None:
    help_ = run(*FLAMBE, "site", "--help")
    assert help_.returncode == 0
    for option in (
        "OUTPUT_FOLDER",
        "--host",
        "--port",
        "--open",
        "--token",
        "--tensorboard",
        "--output-log",
    ):
        assert option in help_.stdout
    assert "127.0.0.1" in help_.stdout and "49558" in help_.stdout
    assert "site" in run(*FLAMBE, "--help").stdout
    plugins = run(*FLAMBE, "plugins").stdout
    assert "flambe-report" in plugins and "commands: flambe site" in plugins
    run_help = run(*FLAMBE, "run", "--help").stdout
    assert "--site" in run_help and "--site-keep" in run_help


def test_core_never_imports_flask() -> None:
    code = (
        "import sys\nfrom flambe.cli.main import main\nimport flambe.cli.run, "
        "flambe.cli.report_site\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug', "
        "'plotly', 'tensorboard') or (m.startswith('flambe.report.') and "
        "m != 'flambe.report.plugin')))"
    )
    out = run(sys.executable, "-c", code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_flambe_site_serves_until_ctrl_c(experiment: Path) -> None:
    port = free_port()
    site = SiteProcess([str(experiment), "--port", str(port)])
    assert site.url == f"http://127.0.0.1:{port}/"
    status, body = raw_get(port, "/api/experiment")
    assert status == 200 and json.loads(body)["name"] == "small"
    output = site.stop()
    assert site.process.returncode == 0 and "Report site stopped." in output
    assert "Traceback" not in output and "KeyboardInterrupt" not in output


def test_the_original_flambe_site_command_takes_the_progress_file(experiment: Path) -> None:
    port = free_port()
    script = os.path.join(os.path.dirname(sys.executable), "flambe-site")
    command = [script] if os.path.exists(script) else [sys.executable, "-m", "flambe.report"]
    site = SiteProcess([str(experiment / "progress.json"), "--port", str(port)], command=command)
    try:
        status, body = raw_get(port, "/api/experiment")
        assert status == 200 and json.loads(body)["output_folder"] == str(experiment.resolve())
    finally:
        site.stop()


def test_a_file_that_is_no_output_folder_is_a_usage_error(experiment: Path) -> None:
    result = run(*FLAMBE, "site", str(experiment / "experiment.yaml"))
    assert result.returncode == 2
    assert "is a file: pass an experiment's output folder" in result.stderr


def test_a_busy_port_is_a_clear_error(experiment: Path) -> None:
    port = free_port()
    site = SiteProcess([str(experiment), "--port", str(port)])
    try:
        second = run(*FLAMBE, "site", str(experiment), "--port", str(port))
        assert second.returncode == 1
        assert f"cannot serve on 127.0.0.1:{port}" in second.stderr
        assert "pass another --port" in second.stderr
    finally:
        site.stop()


def test_the_site_stops_with_the_process_that_started_it(experiment: Path) -> None:
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3)"])
    port = free_port()
    site = SiteProcess([str(experiment), "--port", str(port), "--parent-pid", str(parent.pid)])
    parent.wait()
    assert wait_for(lambda: site.process.poll() is not None, timeout=20)
    assert "Report site stopped." in site.stop()


def test_tensorboard_links_and_the_hint_when_it_is_missing(
    experiment: Path, monkeypatch: Any
) -> None:
    client = create_app(str(experiment), tensorboard_url="http://127.0.0.1:6006").test_client()
    data = client.get("/api/experiment").get_json()
    assert (
        data["tensorboard"]["stages"]["train"]
        == "http://127.0.0.1:6006/?runFilter=%5Etrain%2F#timeseries"
    )
    variant = client.get("/api/variants/" + "a1" * 20).get_json()
    assert variant["tensorboard_url"].startswith("http://127.0.0.1:6006/?runFilter=%5Etrain%2F")
    assert 'href="http://127.0.0.1:6006/?runFilter=%5Etrain%2F#timeseries"' in client.get(
        "/stages/train"
    ).get_data(as_text=True)
    # tensorboard is a dependency here; the test hides it to see what a user without it sees
    monkeypatch.setattr(tb, "installed", lambda: False)
    page = create_app(str(experiment)).test_client().get("/stages/train").get_data(as_text=True)
    assert "TensorBoard is not installed: pip install &#39;flambe-report[tensorboard]&#39;" in page


@pytest.mark.timeout(180)
def test_flambe_site_tensorboard_starts_it(experiment: Path) -> None:
    port, tb_port = free_port(), free_port()
    site = SiteProcess(
        [str(experiment), "--port", str(port), "--tensorboard", "--tensorboard-port", str(tb_port)]
    )
    try:
        info = json.loads(raw_get(port, "/api/experiment")[1])["tensorboard"]
        assert info["url"] == f"http://127.0.0.1:{tb_port}/" and info["started_here"]

        def answers() -> bool:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{tb_port}/data/runs", timeout=5
                ) as response:
                    return "train/lr=0.1,layers=1" in response.read().decode()
            except OSError:
                return False

        assert wait_for(answers, timeout=120, every=1), "TensorBoard never served the runs"
    finally:
        output = site.stop()
    assert "Report site stopped." in output
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{tb_port}/", timeout=5)


# -- what flambe run does (flambe.cli.report_site, in flambe-core) --------------------------
class Runnable:
    """Stands in for an Experiment: only its output_path matters here."""

    def __init__(self, output_path: str) -> None:
        self.output_path = output_path


def test_the_run_prints_the_site_command(tmp_path: Path, caplog: Any) -> None:
    out = str(tmp_path / "output__x")
    with caplog.at_level(logging.INFO, logger="flambe.cli"):
        with core_site.report_site(Runnable(out)):
            pass
    assert f"Report site: flambe site {out}" in caplog.text


def test_without_flambe_report_the_run_says_how_to_install_it(
    tmp_path: Path, caplog: Any, monkeypatch: Any
) -> None:
    # flambe-report is installed in this environment: the test hides it
    monkeypatch.setattr(core_site, "report_installed", lambda: False)
    out = str(tmp_path / "output__x")
    with caplog.at_level(logging.INFO, logger="flambe.cli"):
        with core_site.report_site(Runnable(out), start=True):
            pass
    assert f"Report site: pip install flambe-report, then flambe site {out}" in caplog.text
    assert "--site needs flambe-report: pip install flambe-report" in caplog.text


def test_a_runnable_without_output_has_no_site(caplog: Any) -> None:
    with caplog.at_level(logging.INFO, logger="flambe.cli"):
        with core_site.report_site(object(), start=True):
            pass
    assert "only an experiment has a report site" in caplog.text


def test_the_console_log_starts_once_the_run_owns_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "output__x"
    log = logging.getLogger("flambe.test.console")
    with core_site.report_site(Runnable(str(out))):
        log.warning("before the folder exists")
        assert not out.exists(), "the handler must not create the output folder"
        out.mkdir()
        (out / "other.txt").write_text("a previous run's file")
        log.warning("folder exists, run.json not yet")
        assert not (out / "console.log").exists()
        (out / "run.json").write_text("{}")
        log.warning("the run has started")
    text = (out / "console.log").read_text()
    assert (out / "console.log").stat().st_mode & 0o777 == 0o600
    assert text.index("before the folder exists") < text.index("the run has started")
    assert "WARNING folder exists, run.json not yet" in text
    log.warning("after the run")
    assert "after the run" not in (out / "console.log").read_text()


def test_run_site_starts_a_real_site_and_stops_it_with_the_run(experiment: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/experiment"

    def up() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return json.loads(response.read())["name"] == "small"
        except OSError:
            return False

    with core_site.report_site(Runnable(str(experiment)), start=True, port=port):
        assert wait_for(up, timeout=60), "the site beside the run never answered"
    assert not up(), "the site outlived the run"


def test_site_keep_serves_after_the_run_until_ctrl_c(experiment: Path) -> None:
    port = free_port()
    code = (
        "import logging\nfrom flambe.cli.report_site import report_site\n"
        "logging.basicConfig(level=logging.INFO, format='%(message)s')\n"
        f"class R:\n    output_path = {str(experiment)!r}\n"
        f"with report_site(R(), keep=True, port={port}):\n    pass\n"
        "print('run done', flush=True)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        assert wait_for(lambda: raw_get_ok(port), timeout=60)
        time.sleep(0.5)
        assert process.poll() is None, "the run's process keeps serving the site"
        assert raw_get_ok(port)
    finally:
        process.send_signal(signal.SIGINT)
        out, _ = process.communicate(timeout=60)
    assert process.returncode == 0, out
    assert "run done" in out and "The report site goes on at" in out
    assert not raw_get_ok(port)


def raw_get_ok(port: int) -> bool:
    try:
        return raw_get(port, "/api/experiment")[0] == 200
    except OSError:
        return False


def test_a_folder_of_another_run_gets_no_console_log(tmp_path: Path) -> None:
    # the run refuses a folder holding another configuration: its run.json stays old
    out = tmp_path / "output__x"
    out.mkdir()
    (out / "run.json").write_text("{}")
    os.utime(out / "run.json", (1_000_000_000, 1_000_000_000))
    with core_site.report_site(Runnable(str(out))):
        logging.getLogger("flambe.test.console").warning("refused: another configuration")
    assert not (out / "console.log").exists()
