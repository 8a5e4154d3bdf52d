"""Script: an existing command-line module run as a component."""

from __future__ import annotations

import sys
import textwrap

import pytest

from flambe.compile import yaml
from flambe.learn import Script, ScriptError
from flambe.logging import TrialLogging
from flambe.logging.events import read_scalars


@pytest.fixture
def package(tmp_path, monkeypatch):
    """A package `scriptpkg` with a few modules written for the tests."""
    root = tmp_path / "src" / "scriptpkg"
    root.mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "record.py").write_text(
        textwrap.dedent("""
        import sys
        import scriptpkg
        scriptpkg.seen = list(sys.argv)
        scriptpkg.name = __name__
    """)
    )
    (root / "fail.py").write_text("raise RuntimeError('boom')\n")
    (root / "exits.py").write_text("import sys\nsys.exit(3)\n")
    (root / "ok_exit.py").write_text("import sys\nsys.exit(0)\n")
    (root / "train.py").write_text(
        textwrap.dedent("""
        import argparse
        from flambe import log
        parser = argparse.ArgumentParser()
        parser.add_argument('--lr', type=float)
        parser.add_argument('--out')
        args = parser.parse_args()
        for step in range(3):
            log('script/loss', args.lr * (3 - step), step)
        with open(args.out + '/done.txt', 'w') as f:
            f.write('ok')
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    for name in list(sys.modules):
        if name.startswith("scriptpkg"):
            del sys.modules[name]
    import scriptpkg

    return scriptpkg


def test_runs_the_module_as_main_with_the_arguments(package):
    argv = list(sys.argv)
    script = Script(script="scriptpkg.record", args=["a", "b"], kwargs={"k1": 1, "k2": "foo"})
    assert script.run() is False
    assert package.name == "__main__"
    assert package.seen[1:] == ["a", "b", "--k1", "1", "--k2", "foo"]
    assert package.seen[0].endswith("record.py")  # like `python -m scriptpkg.record`
    assert sys.argv == argv
    assert script.metric() is None


def test_a_mapping_of_args_is_taken_as_options(package):
    Script(script="scriptpkg.record", args={"x": 2}).run()
    assert package.seen[1:] == ["--x", "2"]


def test_argv_is_restored_when_the_script_raises(package):
    argv = list(sys.argv)
    with pytest.raises(RuntimeError, match="boom"):
        Script(script="scriptpkg.fail").run()
    assert sys.argv == argv


def test_exit_status(package):
    assert Script(script="scriptpkg.ok_exit").run() is False
    with pytest.raises(ScriptError, match="status 3"):
        Script(script="scriptpkg.exits").run()


def test_output_dir_and_logging_inside_a_trial(package, tmp_path):
    trial = tmp_path / "trial"
    with TrialLogging(str(trial)):
        script = yaml.load(
            "!Script\nscript: scriptpkg.train\nkwargs: {lr: 0.5}\noutput_dir_arg: out\n"
        )()
        assert script.kwargs["out"] == str(trial)
        script.run()
    assert (trial / "done.txt").read_text() == "ok"
    assert read_scalars(str(trial))["script/loss"] == [(0, 1.5), (1, 1.0), (2, 0.5)]
