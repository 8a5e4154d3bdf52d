"""docs/cli.md: its tested examples run as written, and it covers every command and flag."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "cli.md"
MARK = "<!-- tested: "


def _tested_blocks() -> list[tuple[str, list[tuple[str, int]]]]:
    """(example folder, [(command, expected exit status)]) for each marked ```bash block."""
    text = DOC.read_text(encoding="utf-8")
    blocks = []
    for match in re.finditer(r"<!-- tested: (\S+) -->\s*```bash\n(.*?)```", text, re.DOTALL):
        folder, body = match.group(1), match.group(2)
        commands = []
        for line in body.splitlines():
            line = line.strip()
            if not line.startswith("flambe "):
                continue  # `cd` lines: the test runs in a copy of the folder
            command, _, comment = line.partition("#")
            status = re.search(r"exit (\d+)", comment)
            commands.append((command.strip(), int(status.group(1)) if status else 0))
        blocks.append((folder, commands))
    return blocks


def test_the_doc_has_tested_examples() -> None:
    blocks = _tested_blocks()
    assert blocks and all(commands for _, commands in blocks)


@pytest.mark.parametrize("folder, commands", _tested_blocks())
def test_documented_commands_run_as_documented(
    folder: str, commands: list[tuple[str, int]], tmp_path: Path
) -> None:
    work = tmp_path / "work"
    shutil.copytree(REPO / folder, work)
    target = tmp_path / "site"  # -i installs here, not into the shared environment
    target.mkdir()
    env = dict(os.environ)
    env.update(
        {
            "PIP_TARGET": str(target),
            "PIP_NO_INDEX": "1",
            "PIP_NO_BUILD_ISOLATION": "0",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        }
    )
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(target), env.get("PYTHONPATH")]))
    for command, expected in commands:
        args = command.split()[1:]
        proc = subprocess.run(
            [sys.executable, "-m", "flambe.cli", *args],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == expected, (command, proc.stdout, proc.stderr)
    # what the examples promise
    greeting = (work / "greeting.txt").read_text()
    assert greeting == "Hello, Flambé! -- sent from flambe\n"
    assert (target / "hello_ext" / "__init__.py").is_file()


def test_every_command_option_and_exit_code_is_documented() -> None:
    from flambe.cli.exitcodes import (
        EXIT_BUSY,
        EXIT_CONFIG,
        EXIT_DISK_FULL,
        EXIT_FAILURE,
        EXIT_INTERRUPTED,
        EXIT_OK,
        EXIT_USAGE,
    )
    from flambe.cli.main import cli
    from flambe.plugins.builtin import CORE_COMMANDS

    text = DOC.read_text(encoding="utf-8")
    import click

    ctx = click.Context(cli)
    for name in CORE_COMMANDS:
        assert f"## `flambe {name}" in text, name
        command = cli.get_command(ctx, name)
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("-"):
                    assert f"`{opt}" in text or f"{opt}`" in text or f" {opt}" in text, (name, opt)
    for code in (
        EXIT_OK,
        EXIT_FAILURE,
        EXIT_USAGE,
        EXIT_CONFIG,
        EXIT_INTERRUPTED,
        EXIT_BUSY,
        EXIT_DISK_FULL,
    ):
        assert f"| {code} |" in text
    for topic in (
        "FLAMBE_HOME",
        "secrets.ini",
        "logs/log.log",
        "--install-extensions",
        "flambe CONFIG",
        "flambe_cli_commands",
    ):
        assert topic in text
