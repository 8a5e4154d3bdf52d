"""`flambe validate` accepts every shipped config and every YAML block of docs/ meant to run.

A block of ``docs/*.md`` is meant to run unless a ``<!-- not run -->``
comment precedes it; a block marked ``<!-- the file examples/X -->`` must be
that file, word for word. Configs whose resources live in ``../shared/data``
are checked only when that folder is there (a missing resource is a problem
`flambe validate` reports).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require_shared_data

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(
    p
    for p in (REPO / "examples").rglob("*.yaml")
    if not {"build", "flambe-output"} & set(p.parts) and p.name != "broken.yaml"
)
SKETCH = re.compile(r"(^|\s)\.\.\.(\s|$)", re.M)  # a block with '...' elisions is a sketch
BLOCK = re.compile(r"(?:<!-- (?P<note>[^>]*) -->\n)?```yaml\n(?P<body>.*?)```", re.S)
# plugin tags a config uses, and the distribution that provides them in this repository
PLUGIN_CONFIGS = {"examples/plugin-hello/greet.yaml": "flambe_hello"}


def _validate(path: Path, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flambe.cli", "validate", str(path)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _needs_shared_data(text: str) -> bool:
    return "shared/data" in text


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_example_validates(path: Path, tmp_path: Path) -> None:
    relative = str(path.relative_to(REPO))
    text = path.read_text(encoding="utf-8")
    if _needs_shared_data(text):
        require_shared_data()  # skips, saying why, when the shared data is absent
    if relative in PLUGIN_CONFIGS:
        pytest.importorskip(
            PLUGIN_CONFIGS[relative], reason=f"{relative} needs the plugin of examples/plugin-hello"
        )
    if "\n---\n" in text:  # an extensions header: check a copy, where -i may install nothing
        pytest.importorskip("hello_ext", reason=f"{relative} needs its extension installed")
    proc = _validate(path, tmp_path)  # run from elsewhere: relative paths start at the config
    assert proc.returncode == 0, (relative, proc.stdout, proc.stderr)
    assert proc.stdout.strip().endswith("OK")


def _doc_blocks() -> list[tuple[str, int, str, str]]:
    found = []
    for doc in sorted((REPO / "docs").glob("*.md")):
        text = doc.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            note = (match.group("note") or "").strip()
            if note == "not run" or SKETCH.search(match.group("body")):
                continue
            line = text.count("\n", 0, match.start("body")) + 1
            found.append((doc.name, line, note, match.group("body")))
    return found


DOCS_DEFINING_CLASSES = {"components.md"}


def _run_python_blocks(doc: str, folder: Path) -> None:
    """Write the doc's file blocks into ``folder`` and run its Python blocks, as a reader would."""
    from tests.core.test_docs_examples import blocks

    namespace = {"__name__": "__main__"}
    for note, lang, body in blocks(doc):
        if note.strip() == "not run":
            continue
        if note.startswith("file:"):
            (folder / note.split(":", 1)[1].strip()).write_text(body)
        elif lang == "python":
            exec(compile(body, f"{doc} example", "exec"), namespace)


def test_docs_have_blocks_to_validate() -> None:
    assert len(_doc_blocks()) >= 15


@pytest.mark.parametrize(
    "doc, line, note, body", _doc_blocks(), ids=[f"{d}:{n}" for d, n, _, _ in _doc_blocks()]
)
def test_every_doc_block_meant_to_run_validates(
    doc: str, line: int, note: str, body: str, tmp_path: Path, monkeypatch
) -> None:
    from flambe.compile.validate import validate_text

    if note.startswith("the file "):
        example = REPO / note[len("the file ") :].strip()
        assert body.strip() in example.read_text(encoding="utf-8"), (
            f"docs/{doc}:{line} differs from {example.relative_to(REPO)}"
        )
        return  # validated with the examples
    if doc in DOCS_DEFINING_CLASSES:  # its tags are classes its own Python blocks define
        monkeypatch.chdir(tmp_path)
        _run_python_blocks(doc, tmp_path)
    if _needs_shared_data(body):
        require_shared_data()  # skips, saying why, when the shared data is absent
    if "flambe_nlp" in body or "!TextClassifier" in body or "!TextField" in body:
        pytest.importorskip("flambe.nlp", reason="the block uses flambe-nlp's tags")
    if "!ImageFolderDataset" in body or "!MNIST" in body:
        pytest.importorskip("flambe.vision", reason="the block uses flambe-vision's tags")
    problems = validate_text(body, f"docs/{doc}:{line}")
    assert problems == [], "\n".join(str(p) for p in problems)


def test_validate_reports_a_missing_resource_at_its_line(tmp_path: Path) -> None:
    config = tmp_path / "conf" / "moons.yaml"
    config.parent.mkdir()
    text = (REPO / "examples" / "moons.yaml").read_text(encoding="utf-8")
    config.write_text(text)  # data/moons.csv is not beside this copy
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "moons: data/moons.csv" in row)
    proc = _validate(config, REPO)  # run from a folder where data/moons.csv does not exist either
    assert proc.returncode == 22, (proc.stdout, proc.stderr)
    assert f"{config}:{line}:" in proc.stdout
    assert f"resource 'moons': {config.parent / 'data' / 'moons.csv'} does not exist" in proc.stdout
    assert f"relative path starts from the config's folder ({config.parent})" in proc.stdout
    # with the file beside the config, it validates, wherever flambe runs
    (config.parent / "data").mkdir()
    shutil.copy(REPO / "examples" / "data" / "moons.csv", config.parent / "data" / "moons.csv")
    assert _validate(config, tmp_path).returncode == 0
