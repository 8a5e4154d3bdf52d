"""flambe.logging: typed messages, TrialLogging, TensorBoard files read back."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time

import pytest
import torch

import flambe
from flambe.logging import (
    ContextualFileHandler,
    DataLoggingFilter,
    FlambeFilter,
    NoTrialError,
    ScalarsT,
    ScalarT,
    TextT,
    TqdmFileWrapper,
    TrialLogging,
    get_trial_dir,
    log,
    log_histogram,
    log_image,
    log_pr_curve,
    log_pr_curves,
    log_scalars,
    log_text,
    set_log_dir,
)
from flambe.logging.events import read_events, read_scalars


class Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def records():
    # on the logger of this module (the caller of log()), below the root's handlers
    handler = Records()
    here = logging.getLogger(__name__)
    here.addHandler(handler)
    yield handler.records
    here.removeHandler(handler)


def test_flambe_log_is_the_logging_function():
    assert flambe.log is log


def test_log_emits_one_scalar_record_written_to_tensorboard(tmp_path, records):
    with TrialLogging(str(tmp_path)):
        log("x", 1.5, 3)
    data = [r for r in records if isinstance(r.msg, ScalarT)]
    assert len(data) == 1 and data[0].levelno == logging.INFO
    assert data[0].msg[:3] == ("x", 1.5, 3)
    assert data[0].raw_msg_obj is data[0].msg
    assert read_scalars(str(tmp_path)) == {"x": [(3, 1.5)]}


def test_log_dispatches_on_the_type(tmp_path, records):
    with TrialLogging(str(tmp_path)):
        log("group", {"a": 1.0, "b": 2.0}, 1)
        log("note", "some text", 2)
        log("t", torch.tensor(2.0), 3)
        log("l", [1, 2], 4)
    kinds = [type(r.msg) for r in records if r.name == __name__]
    assert kinds[:3] == [ScalarsT, TextT, ScalarT]
    assert records[-1].getMessage() == "l #4: [1, 2] (not logged to tensorboard)"
    scalar = [r.msg for r in records if isinstance(r.msg, ScalarT)][0]
    assert scalar.scalar_value == 2.0 and isinstance(scalar.scalar_value, float)
    events = read_events(str(tmp_path))
    assert [e.value for e in events if e.kind == "text"] == ["some text"]
    scalars = read_scalars(str(tmp_path))
    assert scalars["group/a/group"] == [(1, 1.0)] and scalars["group/b/group"] == [(1, 2.0)]
    assert scalars["t"] == [(3, 2.0)]


def test_images_histograms_pr_curves_and_texts(tmp_path):
    with TrialLogging(str(tmp_path)):
        log_image("img", torch.rand(3, 6, 4), 0)
        log_histogram("weights", torch.randn(200), 1)
        log_pr_curve("pr", torch.randint(0, 2, (40,)), torch.rand(40), 2)
        log_pr_curves("pr2", torch.randint(0, 2, (40,)), torch.rand(40), 2)
        log_text("txt", "hello", 3)
        log_scalars("many", {"x": 1.0}, 4)
    found = {(e.kind, e.tag) for e in read_events(str(tmp_path))}
    assert {
        ("image", "img"),
        ("histogram", "weights"),
        ("pr_curves", "pr"),
        ("pr_curves", "pr2"),
        ("text", "txt/text_summary"),
        ("scalar", "many"),
    } <= found
    image = [e for e in read_events(str(tmp_path), "image")][0].value.image
    assert (image.height, image.width) == (6, 4)
    assert image.encoded_image_string.startswith(b"\x89PNG")


def test_walltime_is_passed_through_and_defaults_to_call_time(tmp_path, records):
    """Regression: log() dropped walltime and the datatypes froze their default at import."""
    with TrialLogging(str(tmp_path)):
        log("given", 1.0, 0, walltime=1000.0)
        before = time.time()
        log("now", 1.0, 0)
    given = [r.msg for r in records if isinstance(r.msg, ScalarT) and r.msg.tag == "given"][0]
    now = [r.msg for r in records if isinstance(r.msg, ScalarT) and r.msg.tag == "now"][0]
    assert given.walltime == 1000.0
    assert now.walltime >= before
    first, second = ScalarT("a", 1, 0), None
    time.sleep(0.01)
    second = ScalarT("a", 1, 0)
    assert second.walltime > first.walltime
    walltimes = {e.tag: e.wall_time for e in read_events(str(tmp_path), "scalar")}
    assert walltimes["given"] == 1000.0


def test_trial_dir_inside_and_outside():
    with pytest.raises(NoTrialError, match="no active trial"):
        get_trial_dir()


def test_trial_dir(tmp_path):
    with TrialLogging(str(tmp_path)):
        assert get_trial_dir() == str(tmp_path)
    with pytest.raises(NoTrialError):
        get_trial_dir()


def test_data_logging_filter():
    def record(msg, level=logging.INFO):
        return logging.LogRecord("x", level, __file__, 1, msg, None, None)

    flt = DataLoggingFilter(default=False, level=logging.INFO, dont_include=(TextT,))
    assert not flt.filter(record("plain text"))
    assert flt.filter(record(ScalarT("a", 1.0, 0)))
    assert not flt.filter(record(ScalarT("a", 1.0, 0), logging.DEBUG))
    assert not flt.filter(record(TextT("a", "t", 0)))


def test_contextual_file_handler_switches_folders(tmp_path):
    handler = ContextualFileHandler("console.out")
    handler.setFormatter(logging.Formatter("%(message)s"))
    for folder, text in (("a", "one"), ("a", "two"), ("b/c", "three")):
        record = logging.LogRecord("x", logging.INFO, __file__, 1, text, None, None)
        record._console_log_dir = str(tmp_path / folder)
        handler.emit(record)
    handler.emit(logging.LogRecord("x", logging.INFO, __file__, 1, "nowhere", None, None))
    handler.close()
    assert (tmp_path / "a" / "console.out").read_text() == "one\ntwo\n"
    assert (tmp_path / "b" / "c" / "console.out").read_text() == "three\n"


def test_quiet_trial_console_and_console_out(tmp_path, capsys):
    with TrialLogging(str(tmp_path), console_prefix="train"):
        logging.getLogger("flambe.test").info("an info line")
        logging.getLogger("flambe.test").error("an error line")
        log("quiet", 1.0, 0)
    out = capsys.readouterr().out
    assert "an info line" not in out
    assert "flambe.test [block_train] an error line" in out
    assert "quiet" not in out
    text = (tmp_path / "console.out").read_text()
    assert "an info line" in text and "an error line" in text


def test_verbose_trial_shows_data(tmp_path, capsys):
    with TrialLogging(str(tmp_path), verbose=True):
        log("loud", 1.0, 0)
    assert "loud#0 = 1.0" in capsys.readouterr().out


def test_a_trial_logging_each_step_in_the_same_second_keeps_every_point(tmp_path):
    """Regression: a trial opens a writer per step; event files are named after the second
    they are opened in, so writers opened within one second overwrote each other's points."""
    for step in range(4):
        with TrialLogging(str(tmp_path)):
            log("loss", float(step), step)
    assert read_scalars(str(tmp_path)) == {"loss": [(0, 0.0), (1, 1.0), (2, 2.0), (3, 3.0)]}


def test_leaving_restores_the_root_logger_and_closes_writers(tmp_path):
    """Regression: the original ignored root_log_level and left the writers open."""
    root = logging.getLogger()
    before = (list(root.handlers), list(root.filters), root.level, logging.getLogRecordFactory())
    trial = TrialLogging(str(tmp_path), root_log_level=logging.INFO)
    with trial:
        assert root.level == logging.INFO
        logging.getLogger("flambe.test").debug("below the level")
        logging.getLogger("flambe.test").info("at the level")
        tensorboard = trial.handlers[-1]
        log("x", 1.0, 0)
        assert tensorboard.writers
    text = (tmp_path / "console.out").read_text()
    assert "at the level" in text and "below the level" not in text
    assert "x#0" not in text  # data values go to TensorBoard, not console.out (quiet trial)
    assert (
        list(root.handlers),
        list(root.filters),
        root.level,
        logging.getLogRecordFactory(),
    ) == before
    assert tensorboard.writers == {}
    with TrialLogging(str(tmp_path / "b")):
        log("y", 2.0, 0)
    assert read_scalars(str(tmp_path / "b")) == {"y": [(0, 2.0)]}  # flushed at exit


def test_two_trials_write_to_their_own_folders(tmp_path):
    with TrialLogging(str(tmp_path / "one"), hyper_params={"lr": 0.1, "opt": object()}):
        log("m", 1.0, 0)
    with TrialLogging(str(tmp_path / "two")):
        log("m", 2.0, 0)
    assert read_scalars(str(tmp_path / "one"))["m"] == [(0, 1.0)]
    assert read_scalars(str(tmp_path / "two")) == {"m": [(0, 2.0)]}
    assert any(e.kind == "hparams" for e in read_events(str(tmp_path / "one")))


def _hparams_sessions(log_dir):
    """The session-start records of a folder's hparams run (one per time hparams were written)."""
    return [
        e
        for e in read_events(str(log_dir), kind="hparams")
        if e.tag == "_hparams_/session_start_info"
    ]


def test_a_persistent_trial_writes_its_hparams_once(tmp_path):
    """A trial entered once per step keeps its handler: its hyper-parameters are written
    once, the hparams run follows the latest scalars, and every step's values are on disk
    when the step's context closes (before close())."""
    trial = TrialLogging(str(tmp_path), hyper_params={"lr": 0.1}, persistent=True)
    for step in range(3):
        with trial:
            log("loss", 0.5**step, step)
        # flushed at every exit: readable while the trial runs
        assert read_scalars(str(tmp_path))["loss"][-1] == (step, 0.5**step)
        assert read_scalars(str(tmp_path))["hparams/loss"][-1] == (step, 0.5**step)
    assert len(_hparams_sessions(tmp_path)) == 1
    started = _hparams_sessions(tmp_path)[0].value
    from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData

    data = HParamsPluginData.FromString(started.metadata.plugin_data.content)
    assert data.session_start_info.hparams["lr"].number_value == 0.1
    trial.close()
    assert read_scalars(str(tmp_path)) == {
        "loss": [(0, 1.0), (1, 0.5), (2, 0.25)],
        "hparams/loss": [(0, 1.0), (1, 0.5), (2, 0.25)],
    }
    assert len(_hparams_sessions(tmp_path)) == 1


def test_hparams_are_written_again_when_new_scalars_appear(tmp_path):
    trial = TrialLogging(str(tmp_path), hyper_params={"opt": "sgd"}, persistent=True)
    with trial:
        log("loss", 2.0, 0)
    with trial:
        log("loss", 1.0, 1)
    with trial:
        log("accuracy", 0.5, 2)  # a new name: the HParams dashboard must list it
    trial.close()
    sessions = _hparams_sessions(tmp_path)
    assert len(sessions) == 2
    experiments = [
        e for e in read_events(str(tmp_path), kind="hparams") if e.tag == "_hparams_/experiment"
    ]
    from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData

    last = HParamsPluginData.FromString(experiments[-1].value.metadata.plugin_data.content)
    assert sorted(m.name.tag for m in last.experiment.metric_infos) == ["accuracy", "loss"]


def test_a_trial_runner_writes_hparams_once_per_trial(tmp_path):
    """A variant's TensorBoard folder: its parameters once in the hparams run, with the last
    value of its scalars, however many steps it ran."""
    import tests.core.experiment_components  # noqa: F401  (the components' tags)
    from flambe.experiment.trial import TrialPlan, TrialRunner

    plan = TrialPlan(
        stage="train",
        variant={"id": "v1", "name": "lr=0.5", "params": {"lr": 0.5}},
        configs={"train": "!XLogged\nsteps: 4\n"},
        checkpoints={},
        variant_dir=str(tmp_path / "variant"),
        seed=0,
    )
    runner = TrialRunner(plan, resume=False)
    while not runner.done:
        runner.run_step()
    folder = tmp_path / "variant"
    assert read_scalars(str(folder))["value"] == [(1, 1.0), (2, 2.0), (3, 3.0), (4, 4.0)]
    assert read_scalars(str(folder))["hparams/value"][-1] == (4, 4.0)
    assert len(_hparams_sessions(folder)) == 1
    assert runner._log_context is None  # closed when the variant finished


def test_tensorboardx_is_imported_without_boto3_and_keeps_s3(tmp_path):
    """boto3 (0.2 s of imports) is not imported with tensorboardX; its S3 writer still
    imports it when used, where boto3 is installed."""
    code = (
        "import sys, importlib.util\n"
        "from flambe.logging.handlers import import_tensorboardx\n"
        "import_tensorboardx()\n"
        "from tensorboardX import record_writer\n"
        "print('boto3' in sys.modules)\n"
        "installed = importlib.util.find_spec('boto3') is not None\n"
        "print(record_writer.S3_ENABLED == installed)\n"
        "if installed:\n"
        "    print(record_writer.boto3.client is sys.modules['boto3'].client)\n"
        "else:\n"
        "    print(True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.split() == ["False", "True", "True"], done.stderr


def test_nested_trials_send_data_to_the_inner_one(tmp_path):
    with TrialLogging(str(tmp_path / "outer")):
        log("a", 1.0, 0)
        with TrialLogging(str(tmp_path / "inner")):
            log("b", 2.0, 0)
        log("c", 3.0, 0)
    assert set(read_scalars(str(tmp_path / "outer"))) == {"a", "c"}
    assert set(read_scalars(str(tmp_path / "inner"))) == {"b"}


def test_set_log_dir(tmp_path):
    set_log_dir(str(tmp_path / "s"))
    try:
        assert get_trial_dir() == str(tmp_path / "s")
        log("s", 1.0, 0)
    finally:
        set_log_dir(None)
    assert read_scalars(str(tmp_path / "s")) == {"s": [(0, 1.0)]}
    with pytest.raises(NoTrialError):
        get_trial_dir()


def test_outside_a_trial_data_is_an_info_record(records):
    here = logging.getLogger(__name__)
    here.setLevel(logging.INFO)
    try:
        log("free", 0.5, 7)
    finally:
        here.setLevel(logging.NOTSET)
    message = [r for r in records if isinstance(r.msg, ScalarT)][0]
    assert message.levelno == logging.INFO
    assert message.getMessage().startswith("free#7 = 0.5 (")


def test_scalar_repr():
    t = time.mktime((2020, 1, 2, 13, 4, 5, 0, 0, -1))
    assert repr(ScalarT("loss", 0.5, 7, t)) == "loss#7 = 0.5 (13:04:05)"


def test_flambe_filter():
    def accepts(name):
        return FlambeFilter().filter(logging.LogRecord(name, logging.INFO, "", 1, "m", None, None))

    assert accepts("flambe.learn") and accepts("__main__") and not accepts("ray.tune")


def test_tqdm_wrapper_skips_blank_writes():
    class Sink:
        written = ""

        def write(self, text):
            Sink.written += text

    assert TqdmFileWrapper(Sink()).write("  \n") == 0
    assert Sink.written == ""


def test_import_flambe_loads_neither_torch_nor_tensorboardx():
    code = (
        "import sys, flambe, flambe.logging; from flambe import log; "
        "print('torch' in sys.modules, 'tensorboardX' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    ).stdout
    assert out.split() == ["False", "False"]
