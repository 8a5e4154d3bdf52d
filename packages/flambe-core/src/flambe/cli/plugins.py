"""``flambe plugins``: what each installed plugin provides, and what is broken.

Reads only the plugins' declarations (cheap entry-point modules); no tag
target, command or backend is imported. Exits with status 1 when a plugin
failed to load (its module does not import, a hook is misspelled, raises or
returns a malformed declaration) or two plugins claim the same name; the
other plugins are listed as usual.
"""

from __future__ import annotations

import json
from typing import Any

import click

from flambe.cli.exitcodes import EXIT_FAILURE, EXIT_OK, exit_with

# hook -> the key under which its declarations are listed
DECLARATION_HOOKS = {
    "flambe_tags": "tags",
    "flambe_tag_namespaces": "namespaces",
    "flambe_cli_commands": "commands",
    "flambe_storage_backends": "storage_backends",
}


def describe_plugins(host: Any = None) -> dict[str, Any]:
    """A JSON-ready description of every plugin of ``host`` (the process host by default).

    Returns
    -------
    dict
        ``{"plugins": [...], "errors": [...]}``. Each plugin has ``name``,
        ``module``, ``distribution``, ``version``, ``hooks``, ``tags``,
        ``namespaces``, ``commands``, ``storage_backends`` and ``error``
        (``None`` when it loaded). ``errors`` lists failed plugins and
        conflicts (a tag claimed by two plugins).

    """
    from flambe.plugins.manager import get_host

    host = host or get_host()
    failures = host.failures()  # checks every plugin's declarations first
    plugins: dict[str, dict[str, Any]] = {}
    for record in host.records:
        plugins[record.name] = {
            "name": record.name,
            "module": record.module,
            "distribution": record.distribution,
            "version": record.version,
            "hooks": list(record.hooks),
            "tags": [],
            "namespaces": [],
            "commands": [],
            "storage_backends": [],
            "error": record.error,
        }
    errors: list[str] = [
        f"plugin {r.name!r} ({r.distribution} {r.version}) failed to load: {r.error}"
        for r in failures
    ]
    for hook, key in DECLARATION_HOOKS.items():
        for record, mapping in host.declarations(hook):
            entry = plugins.get(record.name)
            if entry is not None:
                entry[key] = sorted(str(name).lstrip("!") for name in mapping)
    errors.extend(str(conflict) for conflict in host.conflicts())  # names two plugins claim
    return {"plugins": list(plugins.values()), "errors": errors}


def _format_text(report: dict[str, Any]) -> str:
    lines = []
    for plugin in report["plugins"]:
        head = f"{plugin['name']} ({plugin['distribution']} {plugin['version']}) {plugin['module']}"
        if plugin["error"]:
            lines.append(f"{head}  FAILED: {plugin['error']}")
            continue
        lines.append(head)
        lines.append(f"  hooks: {', '.join(plugin['hooks']) or '-'}")
        if plugin["tags"]:
            lines.append("  tags: " + ", ".join(f"!{t}" for t in plugin["tags"]))
        if plugin["namespaces"]:
            lines.append("  tag namespaces: " + ", ".join(f"!{n}." for n in plugin["namespaces"]))
        if plugin["commands"]:
            lines.append("  commands: " + ", ".join(f"flambe {c}" for c in plugin["commands"]))
        if plugin["storage_backends"]:
            lines.append("  storage: " + ", ".join(f"{s}://" for s in plugin["storage_backends"]))
    for error in report["errors"]:
        lines.append(f"error: {error}")
    return "\n".join(lines)


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def plugins(as_json: bool) -> None:
    """List installed plugins: versions, hooks, tags, errors."""
    report = describe_plugins()
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(_format_text(report))
    exit_with(EXIT_FAILURE if report["errors"] else EXIT_OK)
