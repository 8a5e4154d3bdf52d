"""A click command that a test plugin adds to ``flambe`` (imported only when run)."""

import click


@click.command("hello-xq7")
@click.option("--name", default="world")
def hello(name: str) -> None:
    """Say hello."""
    click.echo(f"hello {name}")
