"""``flambe schema``: a JSON Schema of every tag, for completion and checking in an editor.

Writes the JSON Schema built by :mod:`flambe.compile.editor_schema` (every
registered tag of the installed plugins, each class's arguments with their
types, defaults and descriptions) and, with ``--custom-tags``, the YAML
language server's ``yaml.customTags`` list. See ``docs/editor.md``.
"""

from __future__ import annotations

import importlib
import json
import os
import sys

import click

from flambe.cli.exitcodes import EXIT_CONFIG, EXIT_OK, exit_with

DEFAULT_OUTPUT = "flambe.schema.json"


def _write(path: str, data: object) -> None:
    text = json.dumps(data, indent=1, ensure_ascii=False) + "\n"
    if path == "-":
        click.echo(text, nl=False)
        return
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    from flambe.utils.atomic import write_text_atomic

    write_text_atomic(path, text)


@click.command("schema")
@click.option(
    "-o",
    "--output",
    metavar="PATH",
    default=DEFAULT_OUTPUT,
    show_default=True,
    help="Where to write the JSON Schema ('-': standard output).",
)
@click.option(
    "--custom-tags",
    "tags_path",
    metavar="PATH",
    default=None,
    help="Also write {\"yaml.customTags\": [...]} for the editor's settings ('-': standard "
    "output).",
)
@click.option(
    "-m",
    "--module",
    "modules",
    metavar="MODULE",
    multiple=True,
    help="Import this module first (an extension from the current folder or installed), so "
    "its classes are in the schema. Repeatable.",
)
def schema(output: str, tags_path: str | None, modules: tuple[str, ...]) -> None:
    """Write a JSON Schema of every tag (and the editor's custom-tag list)."""
    if modules:
        sys.path.insert(0, os.getcwd())  # an extension in the current folder
        try:
            for module in modules:
                try:
                    importlib.import_module(module)
                except Exception as exc:  # noqa: BLE001 - reported as a configuration problem
                    click.echo(f"error: module {module!r} cannot be imported: {exc}", err=True)
                    exit_with(EXIT_CONFIG)
        finally:
            sys.path.remove(os.getcwd())
    from flambe.compile.editor_schema import editor_schema

    built = editor_schema()
    _write(output, built.schema)
    if tags_path is not None:
        _write(tags_path, {"yaml.customTags": built.custom_tags})
    classes = sum(1 for d in built.schema["definitions"].values() if d.get("title"))
    where = "standard output" if output == "-" else output
    click.echo(
        f"wrote {where}: {classes} classes and factories, "
        f"{len(built.custom_tags)} yaml.customTags entries",
        err=True,
    )
    for tag, why in sorted(built.skipped.items()):
        click.echo(f"  skipped {tag}: {why}", err=True)
    exit_with(EXIT_OK)
