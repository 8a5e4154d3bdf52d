"""The lint rules run: CI and pre-commit call scripts/lint; every disabled rule says why."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_ci_and_pre_commit_run_scripts_lint() -> None:
    ci = (REPO_ROOT / ".ci" / "run").read_text()
    assert ci.index("\nbash scripts/lint\n") < ci.index("\nbash scripts/test ||"), "lint first"
    config = yaml.safe_load((REPO_ROOT / ".pre-commit-config.yaml").read_text())
    (repo,) = config["repos"]
    assert repo["repo"] == "local"
    entries = [hook["entry"] for hook in repo["hooks"]]
    assert entries == [
        "bash scripts/lint ruff",
        "bash scripts/lint format",
        "bash scripts/lint mypy",
    ]


def test_every_disabled_rule_says_why() -> None:
    import tomllib  # Python 3.11 and later (the suite's)

    text = (REPO_ROOT / "pyproject.toml").read_text()
    lint = tomllib.loads(text)["tool"]["ruff"]["lint"]
    block = text[text.index("[tool.ruff.lint]") : text.index("[tool.ruff.lint.pydocstyle]")]
    # D203/D213 are the numpy convention's own choice between two exclusive rules
    for rule in set(lint["ignore"]) - {"D203", "D213"}:
        line = next(line for line in block.splitlines() if f'"{rule}"' in line)
        before = block[: block.index(line)].splitlines()[-1]
        assert "#" in line or before.strip().startswith("#"), rule
    per_file = text[text.index("[tool.ruff.lint.per-file-ignores]") :].split("\n[")[0]
    for line in per_file.splitlines()[1:]:
        if re.match(r'^"[^"]+" = ', line):
            before = per_file[: per_file.index(line)].splitlines()[-1]
            assert before.startswith("#"), line
    mypy = text[text.index("[tool.mypy]") :]
    ignored = tomllib.loads(text)["tool"]["mypy"]["overrides"][-1]
    assert ignored["ignore_missing_imports"] is True
    for module in ignored["module"]:
        line = next(line for line in mypy.splitlines() if f'"{module}"' in line)
        assert "#" in line, module


def test_scripts_lint_refuses_an_unknown_step() -> None:
    result = subprocess.run(
        ["bash", "scripts/lint", "pylint"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={"FLAMBE_PYTHON": sys.executable, "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 2
    assert "unknown step 'pylint' (ruff, format or mypy)" in result.stderr
