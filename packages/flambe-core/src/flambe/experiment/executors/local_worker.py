"""A worker process of the local executor: runs the variants it is sent, one at a time.

It is started once per experiment (from a fork server that has imported
torch and flambe already), then receives :class:`~flambe.experiment.trial.TrialPlan`
objects on its pipe and answers with one message per step
(``("result", variant id, result)``), then ``("done", variant id, best
score)`` or ``("error", variant id, traceback)``. A variant runs exactly as
in a Ray trial: :class:`~flambe.experiment.trial.TrialRunner` builds it (or
continues it from its last checkpoint), seeds it from its identity, and
commits a checkpoint and ``trial.json`` after every step.

The worker dies with the process that started it (``kill -9`` included), and
ignores Ctrl-C: the experiment's process stops it.
"""

from __future__ import annotations

import importlib
import os
import signal
import socket
import traceback
from multiprocessing.connection import Connection
from typing import Any

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (no-op elsewhere)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


def _limit_threads(threads: int) -> None:
    """Use as many threads as CPUs the trial asked for, as a Ray worker does."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:  # pragma: no cover
        pass


def _run_variant(conn: Connection, plan: Any, modules: list[str]) -> None:
    from flambe.experiment.trial import TrialRunner, trial_result

    for module in modules:
        importlib.import_module(module)
    runner = TrialRunner(plan, resume=True)
    host = socket.gethostname()
    if runner.done:  # restored after it had finished
        result = trial_result(runner, plan, True, runner.last_metric, runner.best_score)
        conn.send(("result", plan.id, {**result, "hostname": host}))
    while not runner.done:
        done, metric, score = runner.run_step()
        conn.send(
            (
                "result",
                plan.id,
                {**trial_result(runner, plan, done, metric, score), "hostname": host},
            )
        )
    conn.send(("done", plan.id, runner.best_score))


def main(
    conn: Connection, threads: int, gpus: str | None, environ: dict[str, str] | None = None
) -> None:
    """Serve variants sent on ``conn`` until ``None`` arrives or the pipe closes.

    Parameters
    ----------
    conn : Connection
        The pipe to the experiment's process.
    threads : int
        Threads for torch (the CPUs a trial asked for).
    gpus : str, optional
        ``CUDA_VISIBLE_DEVICES`` of this worker (``None``: left as it is).
    environ : dict, optional
        The experiment process's environment when the worker started. The fork server
        was started earlier, maybe for another experiment of the same process, so its
        environment may be older than the one the variants must see.

    """
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if environ is not None:
        os.environ.clear()
        os.environ.update(environ)
    if gpus is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = gpus
    _limit_threads(threads)
    while True:
        try:
            task = conn.recv()
        except EOFError:
            return
        if task is None:
            return
        plan, modules = task
        try:
            _run_variant(conn, plan, modules)
        except Exception:
            conn.send(("error", plan.id, traceback.format_exc()))
