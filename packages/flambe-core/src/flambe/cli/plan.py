"""``flambe plan CONFIG``: what running an experiment config would do, before spending on it.

Checks the config first (everything ``flambe validate`` checks: problems exit
with status 22), then loads it without building any object or starting
Ray and prints the plan of :mod:`flambe.experiment.planning` (as text by
:mod:`flambe.experiment.plan_text`); ``--json`` prints the same as data.
"""

from __future__ import annotations

import json
from typing import Any

import click

from flambe.cli.exitcodes import EXIT_CONFIG, EXIT_OK, exit_with
from flambe.compile.overrides import OVERRIDE_HELP, overrides_argument


def _executor_function(root: Any, executor: str | None = None) -> Any:
    """The engine's rule for where each stage of ``root`` runs (None: this engine has none).

    The rule is the one a run applies (``choose_executor``), for a run
    started like this process (``RAY_ADDRESS``), with ``--executor`` when given.
    """
    try:
        from flambe.experiment.executors.choice import RunOptions, choose_executor
    except ImportError:
        return None
    options = RunOptions.from_environment(executor=executor)

    def rule(stage: str, count: int, scheduler: bool, search: bool) -> tuple[str, str]:
        from flambe.errors import ConfigError

        try:
            name, reason = choose_executor(stage, root, options, count=count)
        except ConfigError as exc:
            return "nowhere", exc.message
        return str(name), str(reason)

    return rule


def make_plan(
    config: str,
    overrides: tuple[str, ...] = (),
    install_extensions: bool = False,
    executor: str | None = None,
) -> Any:
    """Validate and plan a config; returns (problems, plan or None).

    Parameters
    ----------
    config : str
        The config file.
    overrides : tuple of str
        ``key.path=value`` overrides applied before anything else.
    install_extensions : bool
        Install missing extensions.
    executor : str, optional
        The executor asked for, as ``flambe run --executor`` would.

    """
    from flambe.cli.validate import find_problems
    from flambe.errors import ConfigError
    from flambe.experiment.experiment import Experiment
    from flambe.experiment.planning import plan_experiment
    from flambe.runnable.context import load_runnable_config

    problems = find_problems(config, install_extensions, overrides)
    if problems:
        return problems, None
    loaded = load_runnable_config(
        config, install_extensions=install_extensions, overrides=overrides
    )
    cls = loaded.runnable_class
    if not issubclass(cls, Experiment):
        return [
            ConfigError(
                f"flambe plan plans experiments; {config} holds a {cls.__name__}",
                getattr(loaded.root, "location", None),
                hint="run it with flambe run, or check it with flambe validate",
            )
        ], None
    return [], plan_experiment(
        loaded.root, config, executor=_executor_function(loaded.root, executor)
    )


@click.command("plan", epilog=OVERRIDE_HELP)
@click.argument("config", metavar="CONFIG")
@overrides_argument
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
@click.option("--all", "show_all", is_flag=True, help="List every variant, reused ones included.")
@click.option(
    "--executor",
    metavar="NAME",
    default=None,
    help="Plan as for 'flambe run --executor NAME' (auto, local, ray).",
)
@click.option(
    "-i",
    "--install-extensions",
    is_flag=True,
    help="pip install the extensions the config declares, if missing.",
)
def plan(
    config: str,
    overrides: tuple[str, ...],
    as_json: bool,
    show_all: bool,
    executor: str | None,
    install_extensions: bool,
) -> None:
    """Show what running CONFIG would do: stages, variants, reuse, time (nothing runs)."""
    from flambe.errors import FlambeError
    from flambe.experiment.plan_text import render

    try:
        problems, result = make_plan(config, overrides, install_extensions, executor)
    except FlambeError as exc:
        problems, result = [exc], None
    if problems:
        for problem in problems:
            click.echo(str(problem), err=True)
        count = len(problems)
        click.echo(f"{config}: {count} problem{'s' if count > 1 else ''} found", err=True)
        exit_with(EXIT_CONFIG)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2, default=str))
    else:
        click.echo(render(result, show_all=show_all))
    exit_with(EXIT_OK)
