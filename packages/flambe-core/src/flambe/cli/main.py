"""The ``flambe`` command group.

Starting the command must be fast: ``flambe --help`` and ``flambe plugins``
import click, pluggy and the plugins' entry-point modules, and nothing else
(no torch, no ray, no plugin implementation). Every command, core's
included, is declared through the ``flambe_cli_commands`` hook as a
:class:`~flambe.plugins.types.LazyCommand`: listed from its declaration,
imported only when invoked. Core's commands
(:data:`flambe.plugins.builtin.CORE_COMMANDS`) win over a plugin's of the
same name.

``flambe config.yaml [flags]`` (the original form) is ``flambe run
config.yaml [flags]``.
"""

from __future__ import annotations

import logging
import os

import click

from flambe.cli.exitcodes import EXIT_CONFIG
from flambe.plugins.manager import CORE_DISTRIBUTION, PluginRecord, import_object
from flambe.plugins.types import LazyCommand

logger = logging.getLogger(__name__)

CONFIG_SUFFIXES = (".yaml", ".yml")


def _commands() -> dict[str, tuple[LazyCommand, PluginRecord]]:
    """Every subcommand: name -> (LazyCommand, PluginRecord), core's and the plugins'.

    Core declares its commands (:data:`flambe.plugins.builtin.CORE_COMMANDS`)
    through the ``flambe_cli_commands`` hook, like any plugin. Should the
    plugins' declarations be unreadable, core's commands are still there.
    """
    from flambe.errors import FlambeError
    from flambe.plugins.manager import get_host

    try:
        return get_host().commands()
    except FlambeError as exc:
        logger.warning("plugin commands unavailable: %s", exc)
    from flambe.plugins.builtin import CORE_COMMANDS

    core = PluginRecord("core", "flambe.plugins.builtin", CORE_DISTRIBUTION, "unknown")
    return {name: (lazy, core) for name, lazy in CORE_COMMANDS.items()}


def _core_commands() -> set[str]:
    """The names of flambe-core's own commands."""
    return {n for n, (_, r) in _commands().items() if r.distribution == CORE_DISTRIBUTION}


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
        """The names of core's commands and of the plugins' commands, sorted."""
        return sorted(_commands())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``, imported now; ``None`` when no command has that name."""
        entry = _commands().get(cmd_name)
        if entry is None:
            return None
        lazy, record = entry
        if record.distribution == CORE_DISTRIBUTION:  # core's own: an error is a bug, shown whole
            command = import_object(lazy.import_path)
        else:
            try:
                command = import_object(lazy.import_path)
            except Exception as exc:
                raise click.ClickException(
                    f"command 'flambe {cmd_name}' of plugin {record.name!r} "
                    f"({record.distribution}) could not be imported from {lazy.import_path}: "
                    f"{type(exc).__name__}: {exc}"
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
        rows = []
        for name, (lazy, record) in _commands().items():
            where = "" if record.distribution == CORE_DISTRIBUTION else f" [{record.distribution}]"
            rows.append((name, f"{lazy.short_help}{where}".strip()))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(sorted(rows))

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Parse ``args``, reading ``flambe CONFIG ...`` as ``flambe run CONFIG ...``."""
        args = list(args)
        if args and not ctx.resilient_parsing:
            known = _core_commands()
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
    epilog="Run a config directly with 'flambe CONFIG [KEY=VALUE]... [OPTIONS]', the same as "
    "'flambe run CONFIG [KEY=VALUE]... [OPTIONS]'; KEY=VALUE overrides change the config "
    "('a.b=1', '+a.c=2', '~a.d'). Exit codes: 0 success, 1 the run failed, "
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
