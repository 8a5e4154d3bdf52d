"""``flambe validate CONFIG``: check a config without running or building it.

Checks the YAML syntax, the extensions header (modules importable, or
installed with ``-i``), every tag, the links, that the root is a runnable,
and (through :func:`flambe.compile.validate.check`) argument names against
constructor signatures. Prints every problem found as
``file:line:col: message`` with a hint, and exits with status 22 if there is
any.
"""

from __future__ import annotations

from typing import Any

import click

from flambe.cli.exitcodes import EXIT_CONFIG, EXIT_OK, exit_with
from flambe.compile.overrides import OVERRIDE_HELP, overrides_argument


def find_problems(
    config: str, install_extensions: bool = False, overrides: tuple[str, ...] = ()
) -> list[Any]:
    """Every problem of a config changed by ``overrides``, as FlambeErrors (empty when valid)."""
    from flambe.compile.validate import validate_text_root
    from flambe.errors import FlambeError
    from flambe.runnable.context import check_runnable_schema, read_config_text

    try:
        text = read_config_text(config)
    except FlambeError as exc:
        return [exc]
    try:
        found, root = validate_text_root(
            text, config, install=install_extensions, overrides=overrides
        )
    except ModuleNotFoundError:
        # a tag in the namespace of a missing extension; the header tells why
        return _unique(_extension_problems(text, config, install_extensions))
    problems: list[Any] = list(found)
    if root is None:
        return _unique(problems)  # reported above: the file is not a config
    try:
        check_runnable_schema(root, config)
    except FlambeError as exc:
        if not _is_invalid(root):
            problems.append(exc)
    return _unique(problems)


def _extension_problems(text: str, config: str, install: bool) -> list[Any]:
    from flambe.compile.extensions import ensure_extensions
    from flambe.compile.yaml import split_config
    from flambe.errors import FlambeError

    problems: list[Any] = []
    extensions, lines, _, _ = split_config(text, config)
    for module, location in extensions.items():
        try:
            ensure_extensions({module: location}, install=install, file=config, lines=lines)
        except FlambeError as exc:
            problems.append(exc)
    return problems


def _is_invalid(root: Any) -> bool:
    from flambe.compile.yaml import Invalid

    return isinstance(root, Invalid)


def _unique(problems: list[Any]) -> list[Any]:
    seen, result = set(), []
    for problem in problems:
        key = str(problem)
        if key not in seen:
            seen.add(key)
            result.append(problem)
    return result


def _sort_key(problem: Any) -> tuple:
    where = getattr(problem, "location", None)
    if where is None:
        return ("", 0, 0)
    return (where.file, where.line, where.column)


@click.command("validate", epilog=OVERRIDE_HELP)
@click.argument("config", metavar="CONFIG")
@overrides_argument
@click.option(
    "-i",
    "--install-extensions",
    is_flag=True,
    help="pip install the extensions the config declares, if missing "
    "(and local folders whose code changed since).",
)
def validate(config: str, overrides: tuple[str, ...], install_extensions: bool) -> None:
    """Check CONFIG, changed by KEY=VALUE overrides, without running it (exit 22 on problems)."""
    problems = sorted(find_problems(config, install_extensions, overrides), key=_sort_key)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        count = len(problems)
        click.echo(f"{config}: {count} problem{'s' if count > 1 else ''} found", err=True)
        exit_with(EXIT_CONFIG)
    click.echo(f"{config}: OK")
    exit_with(EXIT_OK)
