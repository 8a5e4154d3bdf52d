"""``flambe validate CONFIG``: check a config without running or building it.

Checks the YAML syntax, the extensions header (modules importable, or
installed with ``-i``), every tag, the links, that the root is a runnable,
and (through :func:`flambe.compile.validate.check`) argument names against
constructor signatures. Prints every problem found as
``file:line:col: message`` with a hint, and exits with status 22 if there is
any.
"""

from __future__ import annotations

import importlib
from typing import Any, List

import click

from flambe.cli.exitcodes import EXIT_CONFIG, EXIT_OK, exit_with


def find_problems(config: str, install_extensions: bool = False) -> List[Any]:
    """Every problem of a config, as FlambeErrors (empty when it is valid)."""
    from flambe.errors import FlambeError
    from flambe.runnable.context import check_runnable_schema, load_runnable_config

    problems: List[Any] = []
    try:
        loaded = load_runnable_config(config, install_extensions=install_extensions,
                                      require_runnable=False, errors=problems)
    except FlambeError as exc:
        return problems + [exc]  # the file cannot be loaded any further
    try:
        check_runnable_schema(loaded.root, config)
    except FlambeError as exc:
        problems.append(exc)
    checker = _checker() or check_arguments_everywhere
    problems.extend(checker(loaded.root))
    return _unique(problems)


def check_arguments_everywhere(root: Any) -> List[Any]:
    """Unknown and missing constructor arguments of every schema under ``root``."""
    from collections.abc import Mapping

    from flambe.compile.component import check_arguments
    from flambe.compile.schema import Schema

    problems: List[Any] = []
    seen = set()

    def walk(value: Any) -> None:
        if isinstance(value, Schema):
            if id(value) in seen:
                return
            seen.add(id(value))
            problems.extend(check_arguments(
                value.component_subclass, value.factory_method, value.keywords,
                value.location, value._key_locations, value._created_with_tag))
            for child in value.keywords.values():
                walk(child)
        elif isinstance(value, Mapping):
            for child in value.values():
                walk(child)
        elif isinstance(value, (list, tuple)):
            for child in value:
                walk(child)

    walk(root)
    return problems


def _unique(problems: List[Any]) -> List[Any]:
    seen, result = set(), []
    for problem in problems:
        key = str(problem)
        if key not in seen:
            seen.add(key)
            result.append(problem)
    return result


def _checker() -> Any:
    try:
        module = importlib.import_module("flambe.compile.validate")
    except ModuleNotFoundError as exc:
        if exc.name != "flambe.compile.validate":
            raise
        return None
    return getattr(module, "check", None)


def _sort_key(problem: Any) -> tuple:
    where = getattr(problem, "location", None)
    if where is None:
        return ("", 0, 0)
    return (where.file, where.line, where.column)


@click.command("validate")
@click.argument("config", metavar="CONFIG")
@click.option("-i", "--install-extensions", is_flag=True,
              help="pip install the extensions the config declares, if missing.")
def validate(config: str, install_extensions: bool) -> None:
    """Check CONFIG without running it; print every problem (exit 22 if any)."""
    problems = sorted(find_problems(config, install_extensions), key=_sort_key)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        count = len(problems)
        click.echo(f"{config}: {count} problem{'s' if count > 1 else ''} found", err=True)
        exit_with(EXIT_CONFIG)
    click.echo(f"{config}: OK")
    exit_with(EXIT_OK)
