"""The plugin module of flambe-report, announced under the ``flambe.plugins`` entry point.

It contributes the ``flambe site`` command. Declarations only: the command's
module (and Flask) are imported when the command runs, so ``flambe --help``
stays fast and flambe-core never imports Flask.
"""

from __future__ import annotations

from collections.abc import Mapping

from flambe.plugins import hookimpl
from flambe.plugins.types import LazyCommand

# YAML tag (without "!") -> "module:Class"
TAGS: dict[str, str] = {}


@hookimpl
def flambe_tags() -> Mapping[str, str]:
    """Tags provided by flambe-report (none: it adds a command)."""
    return TAGS


@hookimpl
def flambe_cli_commands() -> Mapping[str, LazyCommand]:
    """``flambe site OUTPUT_FOLDER``: serve the report site of an experiment."""
    return {
        "site": LazyCommand(
            "flambe.report.cli:site", "Serve the report site of an experiment's output folder."
        )
    }
