"""The examples in docs/components.md and docs/saving.md run as written.

Fenced ``yaml`` blocks preceded by ``<!-- file: NAME -->`` are written to
NAME; ``python`` blocks run in order in one namespace, in a temporary
folder; a block preceded by ``<!-- not run -->`` is skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"(?:<!-- (?P<note>[^>]*) -->\n)?```(?P<lang>\w+)\n(?P<body>.*?)```", re.S)


def blocks(doc: str) -> list[tuple[str, str, str]]:
    text = (DOCS / doc).read_text(encoding="utf-8")
    return [(m.group("note") or "", m.group("lang"), m.group("body")) for m in BLOCK.finditer(text)]


@pytest.mark.parametrize("doc", ["components.md", "saving.md"])
def test_doc_examples_run(doc, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__main__"}
    ran = 0
    for note, lang, body in blocks(doc):
        if note.strip() == "not run":
            continue
        if note.startswith("file:"):
            (tmp_path / note.split(":", 1)[1].strip()).write_text(body)
        elif lang == "python":
            exec(compile(body, f"{doc} example {ran + 1}", "exec"), namespace)
            ran += 1
    assert ran >= 3, f"{doc} should show runnable examples"
