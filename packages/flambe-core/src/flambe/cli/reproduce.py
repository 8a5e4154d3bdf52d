"""``flambe reproduce OUTPUT_FOLDER``: rerun a recorded experiment and compare its metrics.

See :mod:`flambe.experiment.reproduce`. Exit status: 0 when the rerun
finished (1 with ``--check`` when a metric differs), 22 when the folder or
the recorded config is not usable, 1 when the rerun failed, 130 on Ctrl-C.
"""

from __future__ import annotations

import click

from flambe.cli.exitcodes import (
    EXIT_BUSY,
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_OK,
    exit_with,
    interrupted,
    show_error,
)


@click.command("reproduce")
@click.argument("output_folder", metavar="OUTPUT_FOLDER", type=click.Path(file_okay=False))
@click.option(
    "--stage",
    metavar="STAGE",
    default=None,
    help="Rerun this stage only (its upstream stages reused).",
)
@click.option(
    "--variant",
    metavar="VARIANT",
    default=None,
    help="Rerun this variant only (its folder name); the rest of its stage is reused.",
)
@click.option(
    "-o",
    "--output",
    "save_path",
    metavar="FOLDER",
    default=None,
    help="Where the rerun goes (FOLDER/output__<name>) [default: reproduce-<time> beside "
    "OUTPUT_FOLDER].",
)
@click.option("--check", is_flag=True, help="Exit with status 1 when a metric differs.")
@click.option(
    "-i",
    "--install-extensions",
    is_flag=True,
    help="pip install the recorded extensions, if missing.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show DEBUG logs.")
def reproduce(
    output_folder: str,
    stage: str | None,
    variant: str | None,
    save_path: str | None,
    check: bool,
    install_extensions: bool,
    verbose: bool,
) -> None:
    """Rerun the experiment recorded in OUTPUT_FOLDER and compare the metrics."""
    from flambe.cli.logs import setup_logging
    from flambe.errors import FlambeError, OutputBusyError
    from flambe.experiment import reproduce as reproduction

    setup_logging(verbose=verbose)
    try:
        try:
            plan = reproduction.prepare(
                output_folder, stage, variant, save_path, install_extensions
            )
        except FlambeError as exc:
            show_error(exc, verbose)
            exit_with(EXIT_CONFIG)
        click.echo(reproduction.describe(plan))
        failure: BaseException | None = None
        try:
            plan.experiment.run(verbose=verbose)
        except OutputBusyError as exc:
            show_error(exc, verbose)
            exit_with(EXIT_BUSY)
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            failure = exc
        plan.rows = reproduction.compare_metrics(plan.recorded, plan.output, plan.stages)
        click.echo("Metrics, recorded and rerun:\n" + reproduction.render_rows(plan.rows))
        if failure is not None:
            show_error(failure, verbose, hint_log=True)
            exit_with(EXIT_FAILURE)
    except KeyboardInterrupt:
        interrupted()
    if check and not plan.identical:
        click.echo("error: the rerun's metrics differ from the recorded ones", err=True)
        exit_with(EXIT_FAILURE)
    exit_with(EXIT_OK)
