"""The ``flambe`` command group.

Starting the command must be fast: ``flambe --help`` and ``flambe plugins``
import click, pluggy and the plugins' entry-point modules, and nothing else
(no torch, no ray, no plugin implementation). Built-in commands live in
their own modules, imported only when invoked; plugin commands
(:class:`~flambe.plugins.types.LazyCommand`) are listed from their
declaration and imported only when invoked.

``flambe config.yaml [flags]`` (the original form) is ``flambe run
config.yaml [flags]``.
"""

from __future__ import annotations

import importlib
import logging
import os
from typing import Any

import click

from flambe.cli.exitcodes import EXIT_CONFIG

logger = logging.getLogger(__name__)

# name -> (module, attribute, short help); imported on use only
BUILTIN_COMMANDS: dict[str, tuple[str, str, str]] = {
    "run": ("flambe.cli.run", "run", "Run a runnable config (an Experiment, a Builder...)."),
    "validate": (
        "flambe.cli.validate",
        "validate",
        "Check a config without running it; list every problem.",
    ),
    "plan": (
        "flambe.cli.plan",
        "plan",
        "Show what running a config would do: variants, reuse, time (runs nothing).",
    ),
    "reproduce": (
        "flambe.cli.reproduce",
        "reproduce",
        "Rerun a recorded experiment (or a stage, a variant); compare the metrics.",
    ),
    "plugins": (
        "flambe.cli.plugins",
        "plugins",
        "List installed plugins: versions, hooks, tags, errors.",
    ),
}

CONFIG_SUFFIXES = (".yaml", ".yml")


def _plugin_commands() -> dict[str, tuple[Any, Any]]:
    """Plugin subcommands (name -> (LazyCommand, PluginRecord)); a broken declaration is logged."""
    from flambe.errors import FlambeError
    from flambe.plugins.manager import get_host

    try:
        found = get_host().commands()
    except FlambeError as exc:
        logger.warning("plugin commands unavailable: %s", exc)
        return {}
    return {name: value for name, value in found.items() if name not in BUILTIN_COMMANDS}


def _looks_like_config(arg: str) -> bool:
    return arg.endswith(CONFIG_SUFFIXES) or os.path.isfile(arg)


def unknown_command_message(name: str, commands: list[str]) -> str:
    """``No such command 'runn'. Did you mean 'run'?`` (the closest commands, if any are close).

    Parameters
    ----------
    name : str
        What was typed.
    commands : list of str
        The commands there are.

    """
    import difflib

    close = difflib.get_close_matches(name, commands, n=3, cutoff=0.6)
    if not close:  # a prefix of one command ("val" -> "validate")
        close = [c for c in commands if c.startswith(name)][:3] if len(name) >= 2 else []
    message = f"No such command '{name}'."
    if close:
        message += " Did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    else:
        message += f" The commands are: {', '.join(commands)}."
    return message


class FlambeGroup(click.Group):
    """A group whose commands are imported on demand, with the bare ``flambe CONFIG`` form."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The names of the built-in commands and of the plugins' commands, sorted."""
        return sorted(set(BUILTIN_COMMANDS) | set(_plugin_commands()))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``, imported now; ``None`` when no command has that name."""
        builtin = BUILTIN_COMMANDS.get(cmd_name)
        if builtin is not None:
            module, attr, _ = builtin
            return getattr(importlib.import_module(module), attr)
        entry = _plugin_commands().get(cmd_name)
        if entry is None:
            return None
        lazy, record = entry
        from flambe.plugins.manager import import_object

        try:
            command = import_object(lazy.import_path)
        except Exception as exc:
            raise click.ClickException(
                f"command 'flambe {cmd_name}' of plugin {record.name!r} ({record.distribution}) "
                f"could not be imported from {lazy.import_path}: {type(exc).__name__}: {exc}"
            ) from exc
        if not isinstance(command, click.Command):
            raise click.ClickException(
                f"command 'flambe {cmd_name}' of plugin {record.name!r} points to "
                f"{lazy.import_path}, which is not a click command"
            )
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """Find the command; an unknown one is a usage error naming the closest commands."""
        name = click.utils.make_str(args[0]) if args else ""
        if args and not name.startswith("-") and self.get_command(ctx, name) is None:
            ctx.fail(unknown_command_message(name, self.list_commands(ctx)))
        return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands in the help from their declarations, importing none."""
        # listed from declarations: nothing is imported to print the help
        rows = [(name, help_) for name, (_, _, help_) in BUILTIN_COMMANDS.items()]
        for name, (lazy, record) in _plugin_commands().items():
            rows.append((name, f"{lazy.short_help} [{record.distribution}]".strip()))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(sorted(rows))

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse ``args``, reading ``flambe CONFIG ...`` as ``flambe run CONFIG ...``."""
        args = list(args)
        if args and not ctx.resilient_parsing:
            known = set(BUILTIN_COMMANDS)
            first = args[0]
            if not first.startswith("-"):
                if (
                    first not in known
                    and first not in self.list_commands(ctx)
                    and _looks_like_config(first)
                ):
                    args.insert(0, "run")
            elif first not in ("--help", "-h", "--version") and not any(a in known for a in args):
                # flags first: flambe -v config.yaml
                if any(not a.startswith("-") and a.endswith(CONFIG_SUFFIXES) for a in args):
                    args.insert(0, "run")
        return super().parse_args(ctx, args)


def _version() -> str:
    import flambe

    return flambe.__version__


@click.group(
    cls=FlambeGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog="Run a config directly with 'flambe CONFIG [OPTIONS]', the same as "
    "'flambe run CONFIG [OPTIONS]'. Exit codes: 0 success, 1 the run failed, "
    f"2 usage error, {EXIT_CONFIG} configuration error, 130 interrupted.",
)
@click.version_option(
    version=_version(), prog_name="flambe", message="%(prog)s %(version)s (flambe-core)"
)
def cli() -> None:
    """Flambé: run and tune PyTorch experiments described in YAML."""


def main(args: list[str] | None = None) -> None:
    """Entry point of the ``flambe`` console script."""
    cli.main(args=args, prog_name="flambe")
