"""The local executor: the variants of a stage on a pool of worker processes, no Ray.

The pool is started on first use and kept for the whole experiment: the
workers come from a fork server that imported torch and flambe once, so no
variant pays an interpreter start or its imports. As many variants run at
once as the machine has room for, given the stage's ``devices`` request
(CPUs and GPUs counted as Ray counts them). Each variant runs as in a Ray
trial (see :mod:`~flambe.experiment.executors.local_worker`), with the same
results, checkpoints, ``trial.json`` and seeding; a variant that raises, or
whose worker dies (a segfault, the OOM killer), is retried from its last
checkpoint up to ``max_failures`` times, then fails alone: its worker is
replaced and the other variants go on.

Ctrl-C stops the workers and the experiment (a rerun continues from the
last checkpoints); ``kill -9`` of the experiment's process takes its workers
with it.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from flambe.experiment.executors.base import Executor, StageEvents, StageJob, StageOutcome
from flambe.experiment.executors.ray_grid import raise_disk_full
from flambe.experiment.trial import TrialPlan

logger = logging.getLogger(__name__)

# the fork server imports these first (see local_preload), then the pipeline's own modules
PRELOAD = ["flambe.experiment.executors.local_preload"]


def machine_slots(resources: Mapping[str, float]) -> tuple[int, int]:
    """Return how many trials fit at once on this machine, and its GPU count.

    Parameters
    ----------
    resources : Mapping
        What one trial asks for: ``cpu`` (default 1) and ``gpu`` (default 0).

    Returns
    -------
    tuple of (int, int)
        Trials at once (at least 1), and the GPUs seen.

    """
    cpus = os.cpu_count() or 1
    want_cpu = float(resources.get("cpu", 1) or 0)
    want_gpu = float(resources.get("gpu", 0) or 0)
    slots = math.floor(cpus / want_cpu + 1e-9) if want_cpu > 0 else cpus
    gpus = _gpu_count() if want_gpu > 0 else 0
    if want_gpu > 0:
        slots = min(slots, math.floor(gpus / want_gpu + 1e-9))
    return max(1, slots), gpus


def _gpu_count() -> int:
    try:
        import torch

        return int(torch.cuda.device_count())
    except ImportError:  # pragma: no cover
        return 0


def _visible_gpus(slot: int, want_gpu: float, gpus: int) -> str | None:
    """Return the GPUs a worker slot sees (``None``: the trial asked for none)."""
    if want_gpu <= 0 or gpus == 0:
        return None if want_gpu <= 0 else ""
    if want_gpu >= 1:
        first = int(slot * want_gpu)
        return ",".join(str(g % gpus) for g in range(first, first + int(math.ceil(want_gpu))))
    return str(int(slot * want_gpu) % gpus)  # fractions share a device


@dataclass
class _Worker:
    """One worker process and what it runs now."""

    process: Any
    conn: Connection
    slot: int
    running: str | None = None


@dataclass
class _Stage:
    """The bookkeeping of one stage while it runs."""

    job: StageJob
    events: StageEvents
    todo: deque[str] = field(default_factory=deque)
    attempts: dict[str, int] = field(default_factory=dict)
    outcome: StageOutcome = field(default_factory=StageOutcome)


TORCH_COMPILER = "torch._dynamo"  # imported by torch when the first optimizer is built


def _import_quietly(name: str) -> None:
    """Import ``name`` (a warm-up: a failure shows when the module is really needed)."""
    import importlib

    try:
        importlib.import_module(name)
    except Exception:  # noqa: BLE001  # pragma: no cover - torch without its compiler
        pass


class LocalExecutor(Executor):
    """Runs a stage's variants on a pool of local worker processes, kept for the experiment."""

    name = "local"

    def __init__(self, verbose: bool = False) -> None:
        super().__init__(verbose)
        self.workers: list[_Worker] = []
        self.shape: tuple[float, float] | None = None  # (cpu, gpu) per trial of the pool
        self._context: Any = None

    # -- the pool -------------------------------------------------------------------------
    def _ctx(self, modules: list[str]) -> Any:
        if self._context is None:
            self._context = multiprocessing.get_context("forkserver")
            self._context.set_forkserver_preload(PRELOAD + list(modules))
        return self._context

    def prewarm(self, modules: list[str], here_too: bool = False) -> None:
        """Start the fork server now, in the background, while the first stages run.

        It imports torch, flambe and the pipeline's modules (``modules``) once;
        the workers are forked from it when a stage needs them. With
        ``here_too`` (a later stage runs in this process), this process also
        imports, in the background, what torch imports the first time an
        optimizer is built (its compiler: 1.4 s on 2 cores), while it waits
        for the workers.
        """
        import multiprocessing.forkserver
        import threading

        self._ctx(modules)
        threading.Thread(
            target=multiprocessing.forkserver.ensure_running, name="flambe-prewarm", daemon=True
        ).start()
        if here_too:
            threading.Thread(
                target=_import_quietly,
                args=(TORCH_COMPILER,),
                name="flambe-prewarm-here",
                daemon=True,
            ).start()

    def _start_worker(self, slot: int, job: StageJob, gpus: int) -> _Worker:
        from flambe.experiment.executors import local_worker

        want_cpu = float(job.resources.get("cpu", 1) or 0)
        threads = max(1, int(want_cpu)) if want_cpu else 1
        visible = _visible_gpus(slot, float(job.resources.get("gpu", 0) or 0), gpus)
        ctx = self._ctx(job.modules)
        parent, child = ctx.Pipe()
        process = ctx.Process(
            target=local_worker.main,
            args=(child, threads, visible, dict(os.environ)),
            name=f"flambe-worker-{slot}",
            daemon=True,
        )
        with _main_not_imported():
            process.start()
        child.close()
        return _Worker(process, parent, slot)

    def _ensure_pool(self, job: StageJob) -> int:
        """Start the workers the stage can use; return how many run at once."""
        shape = (float(job.resources.get("cpu", 1) or 0), float(job.resources.get("gpu", 0) or 0))
        if self.shape is not None and shape != self.shape:
            self.close()  # another devices request: other threads and GPUs per worker
        self.shape = shape
        slots, gpus = machine_slots(job.resources)
        size = min(slots, len(job.plans))
        used = {w.slot for w in self.workers}
        for slot in range(slots):
            if len(self.workers) >= size:
                break
            if slot not in used:
                self.workers.append(self._start_worker(slot, job, gpus))
        return size

    def close(self) -> None:
        """Stop every worker (asking first, then killing the ones that do not go)."""
        for worker in self.workers:
            try:
                worker.conn.send(None)
            except OSError:
                pass
        for worker in self.workers:
            worker.process.join(timeout=2)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(timeout=2)
            worker.conn.close()
        self.workers = []

    def _kill_all(self) -> None:
        for worker in self.workers:
            if worker.process.is_alive():
                os.kill(worker.process.pid, signal.SIGKILL)
        for worker in self.workers:
            worker.process.join(timeout=2)
            worker.conn.close()
        self.workers = []

    # -- a stage --------------------------------------------------------------------------
    def run(self, job: StageJob, events: StageEvents) -> StageOutcome:
        """Run every plan of ``job`` on the pool; return their scores and errors."""
        state = _Stage(job, events, deque(job.plans), {vid: 0 for vid in job.plans})
        try:
            size = self._ensure_pool(job)
            logger.debug(
                "Stage %s: %d variants on %d local workers", job.stage, len(job.plans), size
            )
            while state.todo or any(w.running for w in self.workers):
                self._assign(state, size)
                self._serve(state)
        except KeyboardInterrupt:
            unfinished = len(state.todo) + sum(1 for w in self.workers if w.running)
            self._kill_all()
            logger.warning(
                "Stage %s: %d variant%s stopped before finishing",
                job.stage,
                unfinished,
                "s" * (unfinished != 1),
            )
            raise
        raise_disk_full(state.outcome.failed.values())
        return state.outcome

    def _assign(self, state: _Stage, size: int) -> None:
        """Send waiting variants to idle workers (at most ``size`` busy at once)."""
        busy = sum(1 for w in self.workers if w.running)
        for worker in self.workers:
            if not state.todo or busy >= size:
                return
            if worker.running is None:
                vid = state.todo.popleft()
                plan: TrialPlan = state.job.plans[vid]
                worker.conn.send((plan, state.job.modules))
                worker.running = vid
                busy += 1
                if state.attempts[vid] == 0:
                    state.events.on_start(vid)

    def _serve(self, state: _Stage) -> None:
        """Wait for a message or a worker's death, and handle what arrived."""
        busy = [w for w in self.workers if w.running]
        ready = wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
        for worker in busy:
            while worker.running and worker.conn in ready and _poll(worker.conn):
                try:
                    kind, vid, payload = worker.conn.recv()
                except (EOFError, OSError):
                    break
                self._message(state, worker, kind, vid, payload)
            if worker.running and not worker.process.is_alive():
                self._worker_died(state, worker)

    def _message(self, state: _Stage, worker: _Worker, kind: str, vid: str, payload: Any) -> None:
        if kind == "result":
            state.events.on_result(vid, payload)
        elif kind == "done":
            worker.running = None
            state.outcome.scores[vid] = payload
        elif kind == "error":
            worker.running = None
            self._failed(state, vid, str(payload))

    def _worker_died(self, state: _Stage, worker: _Worker) -> None:
        """A worker died under a variant: fail (or retry) that variant, replace the worker."""
        vid = worker.running
        assert vid is not None
        code = worker.process.exitcode
        how = f"signal {signal.Signals(-code).name}" if code and code < 0 else f"exit code {code}"
        worker.conn.close()
        self.workers.remove(worker)
        _, gpus = machine_slots(state.job.resources)
        self.workers.append(self._start_worker(worker.slot, state.job, gpus))
        text = (
            f"the worker process running {state.job.stage}/{state.job.plans[vid].variant['name']} "
            f"died ({how}): a crash in native code or the out-of-memory killer"
        )
        self._failed(state, vid, text)

    def _failed(self, state: _Stage, vid: str, text: str) -> None:
        """Retry a failed variant from its last checkpoint, or fail it for good."""
        if state.attempts[vid] < state.job.max_failures:
            state.attempts[vid] += 1
            logger.warning(
                "%s/%s failed, retrying from its last checkpoint (%d of %d)",
                state.job.stage,
                state.job.plans[vid].variant["name"],
                state.attempts[vid],
                state.job.max_failures,
            )
            state.todo.append(vid)
            return
        state.outcome.failed[vid] = text
        state.events.on_error(vid, text)


@contextmanager
def _main_not_imported() -> Iterator[None]:
    """Start a worker without it importing the experiment's ``__main__`` again.

    ``multiprocessing`` re-imports the parent's main script or module in each
    new process; a script that runs an experiment without an ``if __name__
    == "__main__"`` guard would start it again there. The workers need
    nothing from it (classes defined in ``__main__`` are refused earlier).
    """
    main = sys.modules["__main__"]
    keys = ("__spec__", "__file__")
    saved: dict[str, Any] = {key: main.__dict__[key] for key in keys if key in main.__dict__}
    main.__dict__["__spec__"] = None
    main.__dict__.pop("__file__", None)
    try:
        yield
    finally:
        main.__dict__.pop("__spec__", None)
        main.__dict__.update(saved)


def _poll(conn: Connection) -> bool:
    try:
        return bool(conn.poll())
    except (EOFError, OSError):
        return False
