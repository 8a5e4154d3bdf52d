"""``flambe site OUTPUT_FOLDER`` (and the original ``flambe-site PATH``): serve the report site."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from flambe.report import security
from flambe.report import tensorboard as tb

DEFAULT_PORT = 49558


@click.command("site")
@click.argument("output_folder", metavar="OUTPUT_FOLDER")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind. Any address but loopback requires a token.",
)
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=int, help="Port to bind.")
@click.option("--open", "open_browser", is_flag=True, help="Open the site in a browser.")
@click.option(
    "--token",
    envvar=security.TOKEN_ENV,
    default=None,
    metavar="TOKEN",
    help=f"Require this token (also ${security.TOKEN_ENV}); generated when binding "
    "a non-loopback address without one.",
)
@click.option(
    "--tensorboard",
    "start_tensorboard",
    is_flag=True,
    help="Also start TensorBoard on the folder (needs the tensorboard package).",
)
@click.option(
    "--tensorboard-port",
    default=tb.DEFAULT_PORT,
    show_default=True,
    type=int,
    help="Port of the TensorBoard started by --tensorboard.",
)
@click.option(
    "--tensorboard-url",
    "--tensorboard_url",
    default=None,
    metavar="URL",
    help="A TensorBoard already serving this folder: link to it.",
)
@click.option(
    "--output-log",
    "--console-log",
    default=None,
    metavar="FILE",
    help="The experiment's console log [default: OUTPUT_FOLDER/console.log].",
)
@click.option(
    "--parent-pid",
    type=int,
    default=None,
    hidden=True,
    help="Stop when this process ends (flambe run --site).",
)
def site(
    output_folder: str,
    host: str,
    port: int,
    open_browser: bool,
    token: str | None,
    start_tensorboard: bool,
    tensorboard_port: int,
    tensorboard_url: str | None,
    output_log: str | None,
    parent_pid: int | None,
) -> None:
    """Serve the report site of OUTPUT_FOLDER (an experiment's output folder or its progress.json).

    The site only reads the folder: start it beside a running experiment,
    after it, or on a copy. Ctrl-C stops it.
    """
    from flambe.report.app import create_app
    from flambe.report.server import build_server, serve, url_for

    if not security.is_loopback(host) and not token:
        token = security.new_token()
    root = os.path.abspath(os.path.expanduser(output_folder))
    if os.path.isfile(root) and os.path.basename(root) != "progress.json":
        raise click.BadParameter(
            f"{output_folder} is a file: pass an experiment's output folder "
            "(flambe-output/output__<name>) or its progress.json",
            param_hint="OUTPUT_FOLDER",
        )
    if not os.path.exists(root):
        click.echo(
            f"{root} does not exist yet: the site waits for the experiment to write it", err=True
        )
    processes: list[Any] = []
    tb_running = False
    if start_tensorboard:
        if not tb.installed():
            click.echo(f"TensorBoard is not installed: {tb.INSTALL_HINT}", err=True)
        else:
            tb_host = "127.0.0.1" if security.is_loopback(host) else host
            logdir = os.path.dirname(root) if root.endswith("progress.json") else root
            processes.append(tb.start(logdir, tb_host, tensorboard_port))
            tensorboard_url = tensorboard_url or url_for(tb_host, tensorboard_port)
            tb_running = True
    app = create_app(
        root,
        token=token,
        tensorboard_url=tensorboard_url,
        console_log=output_log,
        tensorboard_running=tb_running,
        warm_cache=True,
    )
    try:
        server = build_server(app, host, port)
    except OSError as exc:
        _stop(processes)
        raise click.ClickException(
            f"cannot serve on {host}:{port}: {exc.strerror or exc}; pass another --port"
        ) from exc
    url = url_for(host, server.port, token)
    click.echo(f"Report site of {app.extensions['flambe_report']['folder'].root}")
    click.echo(f"  {url}")
    if tensorboard_url:
        click.echo(f"  TensorBoard: {tensorboard_url}")
    click.echo("Ctrl-C stops it.")
    sys.stdout.flush()
    serve(
        server,
        open_url=url if open_browser else None,
        on_stop=lambda: _stop(processes),
        parent_pid=parent_pid,
    )
    click.echo("Report site stopped.")


def _stop(processes: list[Any]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=5)
        except Exception:
            process.kill()


def main(args: list[str] | None = None) -> None:
    """Run the ``flambe-site PATH`` console script (the original command's name)."""
    site.main(args=args, prog_name="flambe-site")
