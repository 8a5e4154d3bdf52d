"""``flambe run CONFIG``: load, check, build and run a runnable config.

Everything that can go wrong with the configuration is found before
``run()`` starts and exits with status 22; a failure inside ``run()`` exits
with status 1; Ctrl-C exits with 130 after logging "Exiting early". An
output folder held by another run exits with 16, a full disk with 28.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import click

from flambe.cli.exitcodes import (
    EXIT_BUSY,
    EXIT_CONFIG,
    EXIT_DISK_FULL,
    EXIT_FAILURE,
    EXIT_OK,
    exit_with,
    interrupted,
    show_error,
)
from flambe.compile.overrides import OVERRIDE_HELP, overrides_argument

logger = logging.getLogger("flambe.cli")

CLUSTER_DISTRIBUTION = "flambe-cluster"
CLUSTER_HOOK = "flambe_run_on_cluster"


def resolve_secrets(secrets: str | None) -> str | None:
    """The secrets file to inject: the one given, else ``$FLAMBE_HOME/secrets.ini`` if present.

    Raises
    ------
    ConfigError
        When a file was given explicitly and does not exist.

    """
    from flambe.errors import ConfigError
    from flambe.utils.paths import default_secrets_path

    if secrets is not None:
        path = os.path.expanduser(secrets)
        if not os.path.isfile(path):
            raise ConfigError(
                f"secrets file {secrets!r} does not exist",
                hint="pass an existing INI file to --secrets",
            )
        return path
    default = default_secrets_path()
    return str(default) if default is not None else None


def check_cluster_support() -> Any:
    """The plugin host, when a plugin can run on a cluster; else a clear error.

    Raises
    ------
    PluginError
        Saying to install flambe-cluster, or that it is installed but failed
        to load (with its error).

    """
    from flambe.errors import PluginError
    from flambe.plugins.manager import get_host

    host = get_host()
    if any(CLUSTER_HOOK in r.hooks for r in host.records if not r.error):
        return host
    failed = [r for r in host.failures() if r.distribution == CLUSTER_DISTRIBUTION]
    if failed:
        raise PluginError(
            f"running on a cluster needs {CLUSTER_DISTRIBUTION}, which is installed "
            f"({failed[0].version}) but failed to load: {failed[0].error}",
            hint=f"fix the error above, or reinstall: pip install --force-reinstall "
            f"{CLUSTER_DISTRIBUTION}",
        )
    loaded = [r for r in host.records if r.distribution == CLUSTER_DISTRIBUTION and not r.error]
    if loaded:
        raise PluginError(
            f"{CLUSTER_DISTRIBUTION} {loaded[0].version} is installed but no plugin implements "
            f"{CLUSTER_HOOK}: this version cannot run on a cluster",
            hint=f"upgrade it (pip install -U {CLUSTER_DISTRIBUTION}), or run the config locally, "
            "without --cluster",
        )
    raise PluginError(
        f"running on a cluster needs {CLUSTER_DISTRIBUTION}: pip install {CLUSTER_DISTRIBUTION}",
        hint="or run the config locally, without --cluster",
    )


def prepare(
    config: str,
    install_extensions: bool,
    cluster: str | None,
    secrets: str | None,
    overrides: tuple[str, ...] = (),
) -> Any:
    """Every step before ``run()``; raises FlambeErrors for configuration problems."""
    from flambe.runnable.context import build_runnable, describe_root, load_runnable_config

    secrets_path = resolve_secrets(secrets)
    loaded = load_runnable_config(
        config, install_extensions=install_extensions, overrides=overrides
    )
    from flambe.compile.preflight import preflight

    preflight(loaded.root)  # every argument, link and resource, before anything is built or run
    from flambe.experiment.ray_shipping import ship_modules

    ship_modules(loaded.extensions)  # sent with flambe to a Ray cluster started elsewhere
    host = None
    if cluster is not None:
        from flambe.errors import RunnableError
        from flambe.runnable.runnable import ClusterRunnable

        if not issubclass(loaded.runnable_class, ClusterRunnable):
            raise RunnableError(
                f"only ClusterRunnables can run on a cluster; {describe_root(loaded.root)} "
                "is a Runnable",
                location=getattr(loaded.root, "location", None),
                hint="run it locally (without --cluster), or use a ClusterRunnable such as "
                "!Experiment",
            )
        host = check_cluster_support()
    runnable = build_runnable(loaded, secrets=secrets_path)
    return loaded, runnable, host, secrets_path


@click.command("run", epilog=OVERRIDE_HELP)
@click.argument("config", metavar="CONFIG")
@overrides_argument
@click.option(
    "-i",
    "--install-extensions",
    is_flag=True,
    help="pip install the extensions the config declares, if missing "
    "(and local folders whose code changed since).",
)
@click.option(
    "-c",
    "--cluster",
    metavar="PATH",
    default=None,
    help="Run on the cluster described by this YAML file (needs flambe-cluster).",
)
@click.option(
    "-f",
    "--force",
    is_flag=True,
    help="Passed to run(): lets the runnable overwrite existing outputs.",
)
@click.option(
    "-s",
    "--secrets",
    metavar="PATH",
    default=None,
    help="INI file of secrets for runnable.config "
    "[default: $FLAMBE_HOME/secrets.ini if it exists].",
)
@click.option(
    "-d", "--debug", is_flag=True, help="Passed to run(): debug mode (not with --cluster)."
)
@click.option(
    "-v", "--verbose", is_flag=True, help="Show DEBUG logs; passed to run() as verbose=True."
)
@click.option(
    "--site",
    is_flag=True,
    help="Serve the report site beside the experiment (needs flambe-report).",
)
@click.option(
    "--site-keep", is_flag=True, help="With --site: keep serving after the run ends, until Ctrl-C."
)
@click.option(
    "--site-port",
    type=int,
    default=49558,
    show_default=True,
    metavar="PORT",
    help="Port of the report site started by --site.",
)
@click.option(
    "--ray-address",
    metavar="ADDRESS",
    default=None,
    help="Run the multi-variant stages on this existing Ray cluster (host:port, or "
    "auto on one of its nodes) instead of a local Ray.",
)
@click.option(
    "--executor",
    metavar="NAME",
    default=None,
    help="How multi-variant stages run: auto (default: local processes, Ray for schedulers, "
    "search and clusters), local, ray, or an executor a plugin adds. Overrides the "
    "experiment's executor.",
)
def run(
    config: str,
    overrides: tuple[str, ...],
    install_extensions: bool,
    cluster: str | None,
    force: bool,
    secrets: str | None,
    debug: bool,
    verbose: bool,
    site: bool = False,
    site_keep: bool = False,
    site_port: int = 49558,
    ray_address: str | None = None,
    executor: str | None = None,
) -> None:
    """Run the runnable described by CONFIG (a YAML file), changed by KEY=VALUE overrides."""
    if debug and cluster is not None:
        raise click.UsageError(
            "--debug cannot be combined with --cluster: debugging needs a local run"
        )
    if ray_address is not None:
        if cluster is not None:
            raise click.UsageError(
                "--ray-address cannot be combined with --cluster: a cluster brings its own Ray"
            )
        from flambe.errors import ConfigError
        from flambe.experiment.executors.choice import refuse_ray_client

        try:
            refuse_ray_client(ray_address, "--ray-address")
        except ConfigError as exc:
            raise click.UsageError(f"{exc.message}.\nhint: {exc.hint}") from None
        os.environ["RAY_ADDRESS"] = ray_address  # read by ray.init() when stages start Ray
    from flambe.cli.logs import setup_logging
    from flambe.errors import DiskFullError, FlambeError, OutputBusyError

    setup_logging(verbose=verbose)
    show_traceback = verbose or debug
    try:
        import flambe

        logger.info("flambé %s: %s", flambe.__version__, config)
        try:
            loaded, runnable, host, secrets_path = prepare(
                config, install_extensions, cluster, secrets, overrides
            )
        except FlambeError as exc:
            show_error(exc, show_traceback)
            exit_with(EXIT_CONFIG)
        except Exception as exc:  # not a configuration problem: a bug somewhere
            show_error(exc, show_traceback, hint_log=True)
            exit_with(EXIT_FAILURE)
        if cluster is not None:
            exit_with(
                _run_on_cluster(
                    host,
                    loaded,
                    runnable,
                    config,
                    cluster,
                    secrets_path,
                    force,
                    verbose,
                    debug,
                    show_traceback,
                )
            )
        from flambe.cli.report_site import report_site
        from flambe.runnable.context import run_runnable

        try:
            with report_site(runnable, start=site, keep=site_keep, port=site_port):
                run_runnable(runnable, force=force, verbose=verbose, debug=debug, executor=executor)
        except OutputBusyError as exc:
            show_error(exc, show_traceback)
            exit_with(EXIT_BUSY)
        except DiskFullError as exc:
            show_error(exc, show_traceback)
            exit_with(EXIT_DISK_FULL)
        except Exception as exc:
            show_error(exc, show_traceback, hint_log=True)
            exit_with(EXIT_FAILURE)
    except KeyboardInterrupt:
        interrupted()
    logger.info("Done")
    exit_with(EXIT_OK)


def _run_on_cluster(
    host: Any,
    loaded: Any,
    runnable: Any,
    config: str,
    cluster: str,
    secrets: str | None,
    force: bool,
    verbose: bool,
    debug: bool,
    show_traceback: bool,
) -> int:
    from flambe.errors import ConfigError, PluginError
    from flambe.plugins.types import ClusterRequest

    request = ClusterRequest(
        runnable=runnable,
        config_path=os.path.abspath(config),
        cluster_path=os.path.abspath(cluster),
        extensions=dict(loaded.extensions),
        secrets=secrets,
        force=force,
        debug=debug,
        verbose=verbose,
    )
    try:
        status = host.run_on_cluster(request)
    except ConfigError as exc:  # the cluster file itself
        show_error(exc, show_traceback)
        return EXIT_CONFIG
    except Exception as exc:
        show_error(exc, show_traceback, hint_log=True)
        return EXIT_FAILURE
    if status is None:
        show_error(
            PluginError(
                f"no plugin could run on the cluster described by {cluster!r}",
                hint="check that the file describes a cluster (such as !SSHCluster or !AWSCluster)",
            ),
            show_traceback,
        )
        return EXIT_CONFIG
    return int(status)
