"""Import paths of the original documentation whose classes moved to flambe-nlp.

``from flambe.field import TextField`` and ``from flambe.tokenizer import
WordTokenizer`` are forwarded, on first access, to flambe-nlp when it is
installed; when it is not, the import says which distribution provides the
name and how to install it. "Not installed" is real here: a Python started
without the site hook (``-S``) gets flambe-core's source folder and the
environment's site-packages on its path, but not flambe-nlp's folder.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE_SRC = ROOT / "packages" / "flambe-core" / "src"

# old import path -> new module, name
MOVED = [
    ("flambe.field", "flambe.nlp.field", "TextField"),
    ("flambe.field", "flambe.nlp.field", "BoWField"),
    ("flambe.field.text", "flambe.nlp.field", "TextField"),
    ("flambe.field.bow", "flambe.nlp.field", "BoWField"),
    ("flambe.tokenizer", "flambe.nlp.tokenizer", "WordTokenizer"),
    ("flambe.tokenizer", "flambe.nlp.tokenizer", "CharTokenizer"),
    ("flambe.tokenizer", "flambe.nlp.tokenizer", "NGramsTokenizer"),
    ("flambe.tokenizer", "flambe.nlp.tokenizer", "LabelTokenizer"),
    ("flambe.tokenizer", "flambe.nlp.tokenizer", "Tokenizer"),
    ("flambe.tokenizer.word", "flambe.nlp.tokenizer", "WordTokenizer"),
    ("flambe.tokenizer.char", "flambe.nlp.tokenizer", "CharTokenizer"),
    ("flambe.tokenizer.label", "flambe.nlp.tokenizer", "LabelTokenizer"),
    ("flambe.tokenizer.tokenizer", "flambe.nlp.tokenizer", "Tokenizer"),
]
# forwarded the same way; their import (of the sru package) is not paid for here
MOVED_SRU = [
    ("flambe.nn", "flambe.nlp.sru", "TransformerSRU"),
    ("flambe.nn", "flambe.nlp.sru", "TransformersSRUDecoder"),
    ("flambe.nn.transformer_sru", "flambe.nlp.sru", "TransformerSRUEncoder"),
]


def _python(code: str, isolated: bool = False) -> subprocess.CompletedProcess:
    if isolated:  # flambe-core and the third-party packages, without flambe-nlp
        paths = [str(CORE_SRC), sysconfig.get_paths()["purelib"]]
        code = f"import sys\nsys.path[:0] = {paths!r}\n" + code
        command = [sys.executable, "-S", "-c", code]
    else:
        command = [sys.executable, "-c", code]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_old_import_paths_forward_to_flambe_nlp_lazily() -> None:
    code = textwrap.dedent(f"""
        import importlib, sys
        import flambe.field, flambe.tokenizer, flambe.tokenizer.word
        assert "flambe.nlp" not in sys.modules, "importing the old paths imported flambe-nlp"
        for old, new, name in {MOVED!r}:
            namespace = {{}}
            exec(f"from {{old}} import {{name}}", namespace)
            assert namespace[name] is getattr(importlib.import_module(new), name), (old, name)
        assert "TextField" in dir(flambe.field) and "WordTokenizer" in dir(flambe.tokenizer)
        from flambe.field import TextField
        from flambe.tokenizer import WordTokenizer
        field = TextField(tokenizer=WordTokenizer(), lower=True)
        field.setup(["Hello world", "hello there"])
        print(field.process("hello world").tolist())
    """)
    result = _python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() in ("[2, 3]", "[3, 4]", "[4, 5]"), result.stdout


def test_without_flambe_nlp_the_import_names_the_distribution_and_command() -> None:
    code = textwrap.dedent(f"""
        import importlib.util
        assert importlib.util.find_spec("flambe.nlp") is None, "flambe-nlp is importable"
        import flambe.field
        assert "TextField" not in dir(flambe.field)
        for old, new, name in {MOVED + MOVED_SRU!r}:
            try:
                exec(f"from {{old}} import {{name}}", {{}})
            except ImportError as exc:
                print(type(exc).__name__, exc)
            else:
                raise SystemExit(f"{{old}}.{{name}} imported without flambe-nlp")
        try:
            flambe.field.NoSuchName
        except AttributeError as exc:
            print("AttributeError", exc)
    """)
    result = _python(code, isolated=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(MOVED + MOVED_SRU) + 1
    for (old, _new, name), line in zip(MOVED + MOVED_SRU, lines, strict=False):
        assert line.startswith("MovedNameError "), line
        assert f"{old}.{name} comes with the flambe-nlp distribution" in line, line
        assert "pip install flambe-nlp" in line, line
    assert lines[-1] == "AttributeError module 'flambe.field' has no attribute 'NoSuchName'"
