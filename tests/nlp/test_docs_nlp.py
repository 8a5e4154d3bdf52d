"""The Python examples of docs/nlp.md run, and its quickstart is examples/sst/quickstart.yaml."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"(?:<!-- (?P<note>[^>]*) -->\n)?```(?P<lang>\w+)\n(?P<body>.*?)```", re.S)


def blocks():
    text = (ROOT / "docs" / "nlp.md").read_text(encoding="utf-8")
    return [(m.group("note") or "", m.group("lang"), m.group("body")) for m in BLOCK.finditer(text)]


def test_python_examples_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__main__"}
    ran = 0
    for note, lang, body in blocks():
        if lang == "python" and note.strip() != "not run":
            exec(compile(body, f"docs/nlp.md example {ran + 1}", "exec"), namespace)
            ran += 1
    assert ran >= 2


def test_the_quickstart_shown_is_the_example_file():
    example = (ROOT / "examples" / "sst" / "quickstart.yaml").read_text()
    config = example[example.index("!Experiment") :]
    shown = [
        body for note, lang, body in blocks() if note == "the file examples/sst/quickstart.yaml"
    ]
    assert shown == [config]


def test_flambe_plugins_lists_flambe_nlp_with_its_tags():
    import subprocess
    import sys

    flambe = Path(sys.executable).with_name("flambe")
    out = subprocess.run([str(flambe), "plugins"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "flambe-nlp" in out.stdout
    for tag in ("TextField", "SSTDataset", "TextClassifier", "LanguageModel", "CorpusSampler"):
        assert tag in out.stdout
