"""``flambe cluster ...``: show, follow, fetch from, open a shell on and tear down clusters.

Every command reads the cluster's record in ``~/.flambe/clusters/<name>/`` (written by the
bring-up) and reaches the hosts with your key and the pinned host keys. NAME may be left out
when only one cluster was brought up from this machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

import click

from flambe.cli.exitcodes import EXIT_FAILURE, EXIT_OK, exit_with, show_error


def _hosts(name: str | None) -> tuple[Any, dict[str, Any], Any, list[Any]]:
    """The state, record, orchestrator and factories of a cluster brought up from here."""
    from flambe.cluster.instance.instance import CPUFactoryInstance, OrchestratorInstance
    from flambe.cluster.state import find_cluster

    state = find_cluster(name)
    record = state.load_hosts()

    def make(cls: type, entry: dict[str, Any]) -> Any:
        return cls(
            entry["host"],
            entry["private_host"],
            record["username"],
            record["key"],
            use_public=entry.get("use_public", True),
            known_hosts=state.known_hosts,
            port=record.get("ssh_port", 22),
            name=entry["name"],
        )

    orch = make(OrchestratorInstance, record["orchestrator"])
    factories = [make(CPUFactoryInstance, f) for f in record["factories"]]
    return state, record, orch, factories


def _fail(exc: Exception) -> None:
    show_error(exc, False)
    exit_with(EXIT_FAILURE)


@click.group("cluster")
def cluster() -> None:
    """Show, follow, fetch from and tear down the clusters brought up from this machine."""


@cluster.command("list")
def list_() -> None:
    """List the clusters brought up from this machine."""
    from flambe.cluster.state import list_clusters

    for name in list_clusters():
        click.echo(name)


@cluster.command("status")
@click.argument("name", required=False)
def status(name: str | None) -> None:
    """Hosts, Ray nodes and runs of cluster NAME."""
    try:
        state, record, orch, factories = _hosts(name)
        click.echo(f"cluster {record['name']} ({record['kind']}), user {record['username']}")
        for host in [orch, *factories]:
            up = host.is_up()
            ray = host.is_node_running() if up else False
            click.echo(
                f"  {host.name:<28} {host.address:<16} private {host.private_host:<16} "
                f"{'reachable' if up else 'UNREACHABLE'}"
                f"{', ray node running' if ray else ', no ray node' if up else ''}"
            )
        if orch.is_up():
            try:
                nodes = orch.cluster_resources()
                cpus = sum(n["cpus"] for n in nodes)
                gpus = sum(n["gpus"] for n in nodes)
                click.echo(f"  ray: {len(nodes)} nodes, {cpus:g} CPUs, {gpus:g} GPUs")
            except Exception as exc:  # Ray is down: say so, keep the rest
                click.echo(f"  ray: not reachable ({str(exc).splitlines()[0]})")
            from flambe.cluster import const

            out = orch._run_cmd(f"ls {const.REMOTE_RUNS} 2>/dev/null")
            for run in out.msg.decode().split() if out.success else []:
                if run.endswith(".log"):
                    continue
                pid = orch.running_pid(run)
                click.echo(f"  run {run}: " + (f"running (pid {pid})" if pid else "not running"))
        for entry in record.get("aws", {}).get("instances", []):
            click.echo(f"  aws instance {entry}")
    except Exception as exc:
        _fail(exc)
    exit_with(EXIT_OK)


@cluster.command("down")
@click.argument("name", required=False)
@click.option(
    "--keep",
    is_flag=True,
    help="Only stop Ray and the runs; keep the machines (AWS: do not terminate).",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def down(name: str | None, keep: bool, yes: bool) -> None:
    """Stop Ray and the runs of cluster NAME; on AWS, terminate what Flambé created."""
    try:
        state, record, orch, factories = _hosts(name)
        aws = record.get("aws")
        if aws and not keep and not yes:
            click.confirm(
                f"terminate the {len(aws.get('instances', []))} instances of {record['name']}?",
                abort=True,
            )
        for host in [orch, *factories]:
            if host.is_up():
                if host is orch:
                    _stop_runs(orch)
                host.shutdown_node()
                click.echo(f"stopped Ray on {host.name}")
        if aws and not keep:
            from flambe.cluster.aws import terminate_recorded

            ids = terminate_recorded(aws)
            click.echo(f"terminated {', '.join(ids) if ids else 'nothing'}")
        if not keep:
            state.forget_hosts()
    except Exception as exc:
        _fail(exc)
    exit_with(EXIT_OK)


def _stop_runs(orch: Any) -> None:
    from flambe.cluster import const

    out = orch._run_cmd(f"ls {const.REMOTE_RUNS} 2>/dev/null")
    for run in out.msg.decode().split() if out.success else []:
        if orch.kill_flambe(run):
            click.echo(f"stopped the run {run}")


@cluster.command("ssh")
@click.argument("name", required=False)
@click.option(
    "--factory",
    type=int,
    default=None,
    metavar="N",
    help="Open the shell on factory N (from 1) instead of the orchestrator.",
)
@click.argument("command", nargs=-1)
def ssh_(name: str | None, factory: int | None, command: tuple) -> None:
    """Open a shell on the orchestrator of cluster NAME (or run COMMAND there)."""
    from flambe.cluster.instance.ssh import ssh_program

    try:
        state, record, orch, factories = _hosts(name)
        host = orch if factory is None else factories[factory - 1]
        host.get_home_path()  # pins the key when it is the first contact
        args = [
            *ssh_program(host.key, host.known_hosts, host.port, interactive=not command),
            host.destination,
            *command,
        ]
    except Exception as exc:
        _fail(exc)
    sys.stdout.flush()
    os.execvp(args[0], args)


@cluster.command("logs")
@click.argument("name", required=False)
@click.argument("run", required=False)
@click.option("-f", "--follow", is_flag=True, help="Keep printing while the run goes on.")
@click.option(
    "-n",
    "--lines",
    type=int,
    default=100,
    show_default=True,
    help="How many lines of the end to print first.",
)
def logs(name: str | None, run: str | None, follow: bool, lines: int) -> None:
    """Print the log of RUN (the experiment's name) on cluster NAME."""
    try:
        state, record, orch, factories = _hosts(name)
        run = run or _only_run(orch)
        path = f"{orch.run_folder(run)}/output.log"
        text = orch.read_text(path)
        if text is None:
            raise click.ClickException(f"no run named {run!r} on {record['name']}")
        shown = text.splitlines()[-lines:] if lines else []
        for line in shown:
            click.echo(line)
        offset = len(text.encode())
        while follow:
            if orch.running_pid(run) is None:
                follow = False
            time.sleep(1 if follow else 0)
            result = orch._run_cmd(f"tail -c +{offset + 1} {path}")
            if result.success and result.msg:
                sys.stdout.write(result.msg.decode("utf-8", errors="replace"))
                sys.stdout.flush()
                offset += len(result.msg)
    except click.ClickException:
        raise
    except Exception as exc:
        _fail(exc)
    exit_with(EXIT_OK)


def _only_run(orch: Any) -> str:
    from flambe.cluster import const

    out = orch._run_cmd(f"ls {const.REMOTE_RUNS} 2>/dev/null")
    runs = [r for r in (out.msg.decode().split() if out.success else []) if "." not in r]
    if len(runs) != 1:
        raise click.ClickException("name the run: " + (", ".join(runs) or "there is none"))
    return runs[0]


def _remote_output(orch: Any, run: str) -> str:
    """The output folder of ``run`` on the orchestrator (``~/<run>/output__<run>``)."""
    return f"{orch.get_home_path()}/{run}/output__{run}"


@cluster.command("fetch")
@click.argument("name", required=False)
@click.argument("run", required=False)
@click.option(
    "-o", "--output", default=".", show_default=True, help="Folder that receives output__<run>."
)
@click.option("--no-checkpoints", is_flag=True, help="Leave the checkpoints on the cluster.")
def fetch(name: str | None, run: str | None, output: str, no_checkpoints: bool) -> None:
    """Copy the results of RUN (output__<run>) from cluster NAME to this machine."""
    try:
        state, record, orch, factories = _hosts(name)
        run = run or _only_run(orch)
        remote = _remote_output(orch, run)
        if not orch.existing_dir(remote):
            raise click.ClickException(f"{remote} does not exist on {orch.name} (yet)")
        target = os.path.join(os.path.abspath(output), f"output__{run}")
        params = ["--exclude=.tune"]
        if no_checkpoints:
            params.append("--exclude=checkpoint")
        orch.get_rsync(remote, target, params)
        click.echo(f"fetched {run} into {target}")
    except click.ClickException:
        raise
    except Exception as exc:
        _fail(exc)
    exit_with(EXIT_OK)


@cluster.command("site")
@click.argument("name", required=False)
@click.argument("run", required=False)
@click.option(
    "--port",
    type=int,
    default=None,
    help="Local port of the forward [default: the report site's port].",
)
def site(name: str | None, run: str | None, port: int | None) -> None:
    """Serve RUN's report site on the orchestrator and forward it to localhost over SSH.

    The site binds the orchestrator's loopback only; this command keeps the SSH forward open
    until Ctrl-C.
    """
    from flambe.cluster import const
    from flambe.cluster.instance.ssh import ssh_program

    try:
        state, record, orch, factories = _hosts(name)
        run = run or _only_run(orch)
        orch.launch_report_site(_remote_output(orch, run), const.REPORT_SITE_PORT)
        local = port or const.REPORT_SITE_PORT
        args = [
            *ssh_program(orch.key, orch.known_hosts, orch.port),
            "-N",
            "-L",
            f"127.0.0.1:{local}:127.0.0.1:{const.REPORT_SITE_PORT}",
            orch.destination,
        ]
        click.echo(f"report site of {run}: http://127.0.0.1:{local}/ (Ctrl-C to stop the forward)")
        sys.stdout.flush()
        proc = subprocess.Popen(args)
        try:
            proc.wait()
        except KeyboardInterrupt:
            proc.terminate()
    except Exception as exc:
        _fail(exc)
    exit_with(EXIT_OK)
