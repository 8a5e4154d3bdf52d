"""``Cluster``: an orchestrator and factories brought up as one Ray cluster.

Bring-up (:meth:`Cluster.run`) waits for SSH on every host, pins their host keys, gives them
the cluster's own key pair and Ray token, runs ``setup_cmds``, installs the same Flambé
distributions as this machine in each host's environment, and starts Ray with Ray's own CLI:
the head on the orchestrator (0 CPUs: no trial runs there), workers on the factories. It is
idempotent: a cluster whose Ray already has every factory is reused. The subclasses say where
the hosts come from (:class:`~flambe.cluster.SSHCluster`, :class:`~flambe.cluster.AWSCluster`).
"""

from __future__ import annotations

import configparser
import getpass
import io
import json
import logging
import os
import shlex
import time
from abc import abstractmethod
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from flambe.cluster import const
from flambe.cluster.errors import ClusterError
from flambe.cluster.instance.errors import RemoteCommandError
from flambe.cluster.instance.instance import (
    CPUFactoryInstance,
    GPUFactoryInstance,
    Instance,
    OrchestratorInstance,
)
from flambe.cluster.state import ClusterState
from flambe.runnable.cluster import Cluster as ClusterContract

logger = logging.getLogger(__name__)

Factory = CPUFactoryInstance  # GPUFactoryInstance is a CPUFactoryInstance too
T = TypeVar("T")


def _send_rsync(host: Instance, path: str, target: str) -> None:
    """Send ``path`` to ``target`` on ``host`` with rsync."""
    host.send_rsync(path, target)


def _parallel(fn: Callable[[Any], T], items: Sequence[Any]) -> list[T]:
    """``fn`` on every item in threads; the first error is raised (after all finished)."""
    if not items:
        return []
    with ThreadPoolExecutor(max_workers=min(16, len(items))) as pool:
        futures = [pool.submit(fn, item) for item in items]
        errors = [error for f in futures if (error := f.exception()) is not None]
        if errors:
            raise errors[0]
        return [f.result() for f in futures]


class Cluster(ClusterContract):
    """Base class of the clusters: bring-up, Ray, files, keys and remote runs.

    Parameters
    ----------
    name : str
        The cluster's name (its state lives in ``~/.flambe/clusters/<name>/``).
    factories_num : int
        How many factories (Ray workers).
    key : str
        Your private SSH key (never uploaded).
    username : str
        The user on every host.
    setup_cmds : list of str, optional
        Shell commands run on every host at bring-up (after SSH is up, before installing).
    python : str
        The interpreter each host's Flambé environment (``~/.flambe/env``) is made with.
    system_site_packages : bool
        Let that environment see the interpreter's packages (a preinstalled torch, say).
    install_flambe : bool
        Install this machine's Flambé distributions on the hosts (else they must be there).
    ssh_port : int
        The hosts' SSH port.
    pip_args : list of str, optional
        Extra ``pip install`` options on the hosts (``[--index-url, https://...]``,
        ``[--no-index]``).
    ssh_retries : int, optional
        How many times (a second apart) a host's SSH port is polled before the host is
        declared unreachable (default 60; 300 for new AWS instances).

    """

    def __init__(
        self,
        name: str,
        factories_num: int,
        key: str,
        username: str,
        setup_cmds: list[str] | None = None,
        python: str = "python3",
        system_site_packages: bool = False,
        install_flambe: bool = True,
        ssh_port: int = 22,
        pip_args: list[str] | None = None,
        ssh_retries: int | None = None,
    ) -> None:
        super().__init__()
        from flambe.cluster.errors import ClusterConfigurationError

        if not isinstance(name, str) or not name or "/" in name or name.startswith("."):
            raise ClusterConfigurationError(
                f"invalid cluster name {name!r}", hint="use letters, digits, '-' and '_'"
            )
        if not isinstance(factories_num, int) or factories_num < 0:
            raise ClusterConfigurationError(
                f"factories_num must be a whole number >= 0, got {factories_num!r}"
            )
        if setup_cmds is not None and (
            not isinstance(setup_cmds, list) or not all(isinstance(c, str) for c in setup_cmds)
        ):
            raise ClusterConfigurationError("setup_cmds must be a list of shell commands")
        self.name = name
        self.factories_num = factories_num
        self.key = os.path.abspath(os.path.expanduser(key))
        self.username = username
        self.setup_cmds = list(setup_cmds or [])
        self.python = python
        self.system_site_packages = bool(system_site_packages)
        self.install_flambe = bool(install_flambe)
        self.ssh_port = int(ssh_port)
        if pip_args is not None and (
            not isinstance(pip_args, list) or not all(isinstance(a, str) for a in pip_args)
        ):
            raise ClusterConfigurationError("pip_args must be a list of pip options")
        self.pip_args = list(pip_args or [])
        if ssh_retries is not None and (not isinstance(ssh_retries, int) or ssh_retries < 0):
            raise ClusterConfigurationError("ssh_retries must be a whole number >= 0")
        self._ssh_retries = ssh_retries
        self.state = ClusterState(name)
        self.orchestrator: OrchestratorInstance | None = None
        self.factories: list[Factory] = []
        self.debug = False

    # -- names and hosts ---------------------------------------------------------------------
    def get_orchestrator_name(self) -> str:
        """``<name>_orchestrator``."""
        return f"{self.name}_orchestrator"

    def get_factory_basename(self) -> str:
        """``<name>_factory``."""
        return f"{self.name}_factory"

    def _instance(
        self, cls: type, ip: str, private_ip: str | None, use_public: bool, name: str
    ) -> Any:
        instance = cls(
            ip,
            private_ip or ip,
            self.username,
            self.key,
            self.config,
            self.debug,
            use_public,
            known_hosts=self.state.known_hosts,
            port=self.ssh_port,
            name=name,
        )
        instance.extra_pip_args = list(self.pip_args)
        return instance

    def get_orchestrator(
        self, ip: str, private_ip: str | None = None, use_public: bool = True
    ) -> OrchestratorInstance:
        """An orchestrator instance at ``ip`` (private address defaults to it)."""
        return self._instance(
            OrchestratorInstance, ip, private_ip, use_public, self.get_orchestrator_name()
        )

    def get_factory(
        self, ip: str, private_ip: str | None = None, use_public: bool = True, index: int = 0
    ) -> CPUFactoryInstance:
        """A CPU factory instance."""
        return self._instance(
            CPUFactoryInstance,
            ip,
            private_ip,
            use_public,
            f"{self.get_factory_basename()}_{index + 1}",
        )

    def get_gpu_factory(
        self, ip: str, private_ip: str | None = None, use_public: bool = True, index: int = 0
    ) -> GPUFactoryInstance:
        """A GPU factory instance."""
        return self._instance(
            GPUFactoryInstance,
            ip,
            private_ip,
            use_public,
            f"{self.get_factory_basename()}_{index + 1}",
        )

    def _orch(self) -> OrchestratorInstance:
        if self.orchestrator is None:
            raise ClusterError("Orchestrator instance was not loaded.")
        return self.orchestrator

    @property
    def hosts(self) -> list[Instance]:
        """The orchestrator (when loaded) then the factories."""
        return ([self.orchestrator] if self.orchestrator is not None else []) + list(self.factories)

    def get_orch_home_path(self) -> str:
        """The home folder of the user on the orchestrator."""
        return self._orch().get_home_path()

    @property
    def orchestrator_home(self) -> str:
        """Same as :meth:`get_orch_home_path` (read by ``Experiment.setup``)."""
        return self.get_orch_home_path()

    # -- what subclasses provide ------------------------------------------------------------
    @abstractmethod
    def load_all_instances(self) -> None:
        """Set :attr:`orchestrator` and :attr:`factories` (creating machines if needed)."""

    def rollback_env(self) -> None:
        """Undo what a failed bring-up created (nothing for existing machines)."""

    def record(self) -> dict[str, Any]:
        """What ``hosts.json`` keeps about the cluster (subclasses add their ids)."""

        def host(i: Instance) -> dict[str, Any]:
            return {
                "name": i.name,
                "host": i.host,
                "private_host": i.private_host,
                "use_public": i.use_public,
                "gpu": isinstance(i, GPUFactoryInstance),
            }

        return {
            "name": self.name,
            "kind": type(self).__name__,
            "username": self.username,
            "key": self.key,
            "ssh_port": self.ssh_port,
            "orchestrator": host(self._orch()),
            "factories": [host(f) for f in self.factories],
        }

    # -- bring-up ---------------------------------------------------------------------------
    def run(self, force: bool = False, **kwargs: Any) -> None:  # type: ignore[override]  # a runnable takes the CLI flags
        """Bring the cluster up, or reuse it when its Ray cluster is complete already.

        Raises
        ------
        ClusterError
            A host is unreachable (named), a command failed, or Ray did not come up; what this
            bring-up created is rolled back first.

        """
        try:
            self._phase("finding the hosts", self.load_all_instances)
            self._phase("waiting for SSH", self._wait_for_hosts)
            self._phase(
                "connecting", lambda: _parallel(lambda h: h.get_home_path(), self.hosts)
            )  # pins every host key
            self._phase("distributing the cluster key", self.distribute_keys)
            self.create_dirs([const.REMOTE_EXTENSIONS, const.REMOTE_RUNS])
            if self.setup_cmds:
                self._phase("running setup_cmds", lambda: self.run_cmds(self.setup_cmds))
            self._phase("installing Flambé", self.prepare_all_instances)
            self._detect_gpus()
            if force or not self._phase("checking Ray", self.is_ray_cluster_complete):
                if self.existing_ray_cluster():
                    self.shutdown_ray_cluster()
                self._phase("starting Ray", self.launch_ray_cluster)
            self.state.save_hosts(self.record())
        except Exception:
            try:
                self.rollback_env()
            except Exception as exc:  # the rollback's own failure must not hide the cause
                logger.error("rolling back the cluster %s failed: %s", self.name, exc)
            raise

    def _phase(self, what: str, step: Callable[[], T]) -> T:
        started = time.monotonic()
        logger.info("%s: %s...", self.name, what)
        result = step()
        logger.info("%s: %s took %.1f s", self.name, what, time.monotonic() - started)
        return result

    def _wait_for_hosts(self) -> None:
        def wait(host: Instance) -> None:
            try:
                host.wait_until_accessible(retries=self.ssh_retries())
            except ConnectionError as exc:
                raise ClusterError(
                    str(exc),
                    hint="check the address in the cluster config and "
                    "that the host is up; nothing was left on the other hosts",
                ) from exc

        _parallel(wait, self.hosts)

    def ssh_retries(self) -> int:
        """Polls of a host's SSH port before it is declared unreachable."""
        return const.RETRIES if self._ssh_retries is None else self._ssh_retries

    def distribute_keys(self) -> None:
        """Give every host the cluster's key pair, pinned host keys and Ray token.

        A no-op on hosts that already hold them; afterwards every host can ssh to every other
        with the cluster key (the user's key is never uploaded).
        """
        private, public = self.state.key_pair()
        token = self.state.ray_token()
        lines = []
        for host in self.hosts:
            pinned = [
                line.split(" ", 1)[1] for line in _pinned(self.state.known_hosts, host.address)
            ]
            for key in pinned:
                lines += [f"{host.private_host} {key}", f"{host.host} {key}"]
        known_hosts = "\n".join(sorted(set(lines))) + "\n"

        def give(host: Instance) -> None:
            if self.cluster_has_key_on(host, public, token):
                host.put_text(const.KNOWN_HOSTS, known_hosts, 0o644)
                return
            host.put_text(const.PRIVATE_KEY, private, 0o600)
            host.put_text(const.PUBLIC_KEY, public + "\n", 0o644)
            host.put_text(const.RAY_TOKEN, token, 0o600)
            host.put_text(const.KNOWN_HOSTS, known_hosts, 0o644)
            host.run(
                f"mkdir -p ~/.ssh && chmod 700 ~/.ssh && touch ~/.ssh/authorized_keys && "
                f"(grep -qF {shlex.quote(public)} ~/.ssh/authorized_keys || "
                f"echo {shlex.quote(public)} >> ~/.ssh/authorized_keys)",
                retries=3,
                what="authorizing the cluster key",
            )

        _parallel(give, self.hosts)

    @staticmethod
    def cluster_has_key_on(host: Instance, public: str, token: str) -> bool:
        """Whether ``host`` holds this key pair and token already."""
        have = host.read_text(const.PUBLIC_KEY)
        have_token = host.read_text(const.RAY_TOKEN)
        return (
            have is not None
            and have.strip() == public
            and have_token is not None
            and have_token.strip() == token
        )

    def cluster_has_key(self) -> bool:
        """Whether every host holds the same cluster key pair."""
        private, public = self.state.key_pair()
        token = self.state.ray_token()
        return all(_parallel(lambda h: self.cluster_has_key_on(h, public, token), self.hosts))

    def create_dirs(self, relative_dirs: list[str]) -> None:
        """Create folders (relative to the home folder) on every host."""
        _parallel(lambda h: h.create_dirs(relative_dirs), self.hosts)

    def run_cmds(self, setup_cmds: list[str]) -> None:
        """Run commands on every host (in order on each host, hosts in parallel)."""
        _parallel(lambda h: h.run_cmds(setup_cmds), self.hosts)

    def prepare_all_instances(self) -> None:
        """Make each host's Flambé environment hold this machine's Flambé distributions."""
        if not self.install_flambe:
            return
        from flambe.cluster.install import install_plan

        plan = install_plan(self.state.wheels)
        stamp = plan.stamp()

        def prepare(host: Instance) -> None:
            host.ensure_environment(self.python, self.system_site_packages)
            if (host.read_text(".flambe/installed") or "").strip() == stamp:
                return
            remote_wheels = []
            for wheel in plan.wheels:
                target = f"{const.REMOTE_WHEELS}/{wheel.name}"
                host.send_rsync(str(wheel), target)
                remote_wheels.append(target)
            if remote_wheels and host.installed_versions():
                # an earlier install: same versions, new code, so replace the files first
                host.install_packages([], remote_wheels, options=["--no-deps", "--force-reinstall"])
            host.install_packages(plan.requirements, remote_wheels)
            host.put_text(".flambe/installed", stamp, 0o644)

        _parallel(prepare, self.hosts)

    def _detect_gpus(self) -> None:
        """Factories that have GPUs become :class:`GPUFactoryInstance`."""

        def upgrade(factory: Factory) -> Factory:
            if not isinstance(factory, GPUFactoryInstance) and factory.contains_gpu():
                gpu = GPUFactoryInstance.__new__(GPUFactoryInstance)
                gpu.__setstate__(factory.__getstate__())
                return gpu
            return factory

        self.factories = _parallel(upgrade, self.factories)

    # -- Ray --------------------------------------------------------------------------------
    def ray_address(self) -> str:
        """``<orchestrator private address>:<port>``, as the hosts reach the head."""
        return f"{self._orch().private_host}:{const.RAY_PORT}"

    def existing_ray_cluster(self) -> list[Instance]:
        """The hosts running a Ray node of this cluster."""
        running = _parallel(lambda h: h.is_node_running(), self.hosts)
        return [h for h, up in zip(self.hosts, running, strict=True) if up]

    def is_ray_cluster_up(self) -> bool:
        """Whether the orchestrator runs the Ray head."""
        return self._orch().is_node_running()

    def launch_ray_cluster(self) -> None:
        """Start the head on the orchestrator, then a worker on every factory.

        Raises
        ------
        ClusterError
            A host already runs a Ray node, or not every factory joined.

        """
        running = self.existing_ray_cluster()
        if running:
            raise ClusterError(
                "a Ray node already runs on " + ", ".join(h.name for h in running),
                hint=f"stop it with: flambe cluster down {self.name} --keep",
            )
        self._orch().launch_node(const.RAY_PORT)
        address = self.ray_address()
        _parallel(lambda f: f.launch_node(address), self.factories)
        deadline = time.monotonic() + 60
        while not self.check_ray_cluster():
            if time.monotonic() > deadline:
                gpus = sum(isinstance(f, GPUFactoryInstance) for f in self.factories)
                raise ClusterError(
                    f"only {len(self._orch().worker_nodes())} of "
                    f"{self.factories_num} factories joined the Ray cluster"
                    + (f" ({gpus} of them must offer their GPUs)" if gpus else ""),
                    hint="look at the Ray logs in /tmp/flambe-ray-* on the hosts",
                )
            time.sleep(1)

    def check_ray_cluster(self) -> bool:
        """Whether every factory joined the Ray cluster with its CPUs, and its GPUs if any."""
        nodes = self._orch().cluster_resources()
        workers = {n["ip"] for n in nodes if n["cpus"] > 0 or n["gpus"] > 0}
        with_gpus = {n["ip"] for n in nodes if n["gpus"] > 0}
        gpu_hosts = {f.private_host for f in self.factories if isinstance(f, GPUFactoryInstance)}
        return len(workers) == self.factories_num and gpu_hosts <= with_gpus

    def is_ray_cluster_complete(self) -> bool:
        """Whether the head runs and every factory is in it."""
        try:
            return self.is_ray_cluster_up() and self.check_ray_cluster()
        except RemoteCommandError:
            return False

    def shutdown_ray_cluster(self) -> None:
        """Stop the Ray nodes of this cluster on every host."""
        _parallel(lambda h: h.shutdown_node(), self.hosts)

    # -- files ------------------------------------------------------------------------------
    def existing_dir(self, path: str) -> bool:
        """Whether ``path`` exists on any host."""
        return any(_parallel(lambda h: h.existing_dir(path), self.hosts))

    def remove_dir(self, path: str, content_only: bool = True, all_hosts: bool = True) -> None:
        """Delete ``path`` (or what it holds) on the orchestrator or on every host."""
        hosts = self.hosts if all_hosts else [self._orch()]
        _parallel(lambda h: h.remove_dir(path, content_only), hosts)

    def send_local_content(
        self, content: dict[str, str], dest: str, all_hosts: bool = False
    ) -> dict[str, str]:
        """Upload existing local paths to ``<dest>/<key>__<basename>``; others pass unchanged.

        Files above 10 MB are uploaded with a warning. With ``all_hosts`` every factory gets
        the same copy (from this machine), at the same path.
        """
        orch = self._orch()
        home = orch.get_home_path()
        base = dest if os.path.isabs(dest) else f"{home}/{dest}"
        result: dict[str, str] = {}
        for key, value in content.items():
            path = os.path.expanduser(str(value))
            if not isinstance(value, str) or not os.path.exists(path):
                result[key] = value
                continue
            size = _size(path)
            if size > const.LARGE_FILE_BYTES:
                logger.warning(
                    "%s (%s) is %.1f MB: uploading it to every host may take a while",
                    key,
                    path,
                    size / 1e6,
                )
            target = f"{base}/{key}__{os.path.basename(os.path.abspath(path))}"
            hosts = self.hosts if all_hosts else [orch]
            _parallel(partial(_send_rsync, path=path, target=target), hosts)
            result[key] = target
        return result

    def rsync_orch(self, folder: str) -> None:
        """Copy ``folder`` from the orchestrator to every factory (same path), host to host."""
        orch = self._orch()
        for factory in self.factories:
            orch.rsync_folder(folder, f"{self.username}@{factory.private_host}:{folder}")

    def send_secrets(self, whitelist: list[str] | None = None) -> str:
        """Write the secrets (only the ``whitelist`` sections, if given) to ``~/secret.ini``.

        Returns
        -------
        str
            The path of the file on the orchestrator.

        """
        parser = configparser.ConfigParser()
        for section in self.config.sections():
            if whitelist is None or section in whitelist:
                parser[section] = dict(self.config[section])
        buffer = io.StringIO()
        parser.write(buffer)
        return self._orch().put_text(
            f"{self.get_orch_home_path()}/secret.ini", buffer.getvalue(), 0o600
        )

    def install_extensions_in_orchestrator(self, extensions: dict[str, str]) -> None:
        """Pip install the extensions in the orchestrator's environment."""
        self._orch().install_extensions(extensions)

    def install_extensions_in_factories(self, extensions: dict[str, str]) -> None:
        """Pip install the extensions in every factory's environment."""
        _parallel(lambda f: f.install_extensions(extensions), self.factories)

    # -- resources and environment ----------------------------------------------------------
    def contains_gpu_factories(self) -> bool:
        """Whether a factory has GPUs."""
        return any(isinstance(f, GPUFactoryInstance) for f in self.factories)

    def get_max_resources(self) -> dict[str, float]:
        """The smallest CPU and GPU counts over the factories."""
        if not self.factories:
            return {"cpu": 0, "gpu": 0}
        cpus = _parallel(lambda f: f.num_cpus(), self.factories)
        gpus = _parallel(lambda f: f.num_gpus(), self.factories)
        return {"cpu": min(cpus), "gpu": min(gpus)}

    def get_remote_env(self, user_provider: Callable[[], str] = getpass.getuser) -> Any:
        """The :class:`RemoteEnvironment` a runnable on this cluster sees."""
        from flambe.runnable.environment import RemoteEnvironment

        orch = self._orch()
        return RemoteEnvironment(
            key=f"{self.get_orch_home_path()}/{const.PRIVATE_KEY}",
            orchestrator_ip=orch.private_host,
            factories_ips=[f.private_host for f in self.factories],
            user=self.username,
            local_user=user_provider(),
            public_orchestrator_ip=orch.host,
            public_factories_ips=[f.host for f in self.factories],
        )

    # -- runs -------------------------------------------------------------------------------
    def existing_flambe_execution(self, name: str) -> int | None:
        """The pid of experiment ``name`` when it runs on the orchestrator."""
        return self._orch().running_pid(name)

    def shutdown_flambe_execution(self, name: str) -> bool:
        """Stop experiment ``name`` on the orchestrator; whether it was running."""
        return self._orch().kill_flambe(name)

    def execute(
        self,
        cluster_runnable: Any,
        extensions: dict[str, str],
        new_secrets: str | None,
        force: bool,
    ) -> int:
        """Upload the runnable as ``~/flambe-runs/<name>/flambe.yaml`` and start it there.

        The process is detached from the SSH session and connects to this cluster's Ray.
        Returns 0 once it started.
        """
        from flambe.compile.yaml import dump_with_extensions

        orch = self._orch()
        name = run_name(cluster_runnable)
        folder = f"{self.get_orch_home_path()}/{orch.run_folder(name)}"
        config = orch.put_text(
            f"{folder}/flambe.yaml", dump_with_extensions(cluster_runnable, extensions), 0o600
        )
        pid = orch.launch_flambe(
            name, config, new_secrets, force, self.ray_address(), env=self.trial_sync_env()
        )
        logger.info("Started %s on %s (pid %d)", name, orch.name, pid)
        return 0

    def trial_sync_env(self) -> dict[str, str]:
        """The environment telling a run how trials reach the orchestrator's output folder.

        A trial on a factory that does not see the orchestrator's folder (no shared file
        system) copies its variant folder over SSH with the cluster key, checking the
        orchestrator's pinned host key: see :mod:`flambe.experiment.trial_sync`.
        """
        orch = self._orch()
        sync = {
            "host": orch.private_host,
            "user": self.username,
            "port": orch.port,
            "key": f"~/{const.PRIVATE_KEY}",
            "known_hosts": f"~/{const.KNOWN_HOSTS}",
        }
        return {"FLAMBE_TRIAL_SYNC": json.dumps(sync)}


def run_name(runnable: Any) -> str:
    """The name a runnable runs under on a cluster (its ``name``, else its class)."""
    name = getattr(runnable, "name", None)
    return name if isinstance(name, str) and name else type(runnable).__name__.lower()


def _pinned(known_hosts: Any, address: str) -> list[str]:
    from flambe.cluster.instance.ssh import known_hosts_lines

    return known_hosts_lines(known_hosts, address)


def _size(path: str) -> int:
    if os.path.isfile(path):
        return os.path.getsize(path)
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total
