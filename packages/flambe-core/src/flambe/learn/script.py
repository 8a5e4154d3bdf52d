"""Script: run an existing command-line module as a component."""

from __future__ import annotations

import runpy
import sys
from typing import Any

from flambe.compile import Component
from flambe.errors import FlambeError


class ScriptError(FlambeError, RuntimeError):
    """The wrapped script exited with a non-zero status."""


class Script(Component):
    """Run a module as ``python -m <script> <args> --<key> <value> ...``, in process.

    The module reads its arguments from ``sys.argv`` (``argparse`` works);
    ``sys.argv`` is restored afterwards, also when the script fails. Inside
    the module ``flambe.log`` writes to the trial's TensorBoard folder like
    any other component. A script is a single step: :meth:`run` returns
    False and :meth:`metric` is None.

    Parameters
    ----------
    script : str
        The importable name of the module, e.g. ``my_project.train``.
    args : list or dict, optional
        Positional arguments; a mapping is taken as ``kwargs`` (the form
        of the original documentation).
    kwargs : dict, optional
        Options, passed as ``--<key> <value>`` in order.
    output_dir_arg : str, optional
        An option that receives the trial's folder (``--<output_dir_arg>
        <folder>``); needs an active trial logging context.

    Examples
    --------
    .. code-block:: yaml

        train: !Script
          script: my_project.train
          kwargs: {lr: 0.01, epochs: 3}

    """

    def __init__(
        self,
        script: str,
        args: list[Any] | dict[str, Any] | None = None,
        kwargs: dict[str, Any] | None = None,
        output_dir_arg: str | None = None,
    ) -> None:
        super().__init__()
        if isinstance(args, dict):
            kwargs = {**args, **(kwargs or {})}
            args = []
        self.script = script
        self.args = list(args or [])
        self.kwargs = dict(kwargs or {})
        self.output_dir_arg = output_dir_arg
        if output_dir_arg is not None:
            from flambe.logging import get_trial_dir

            self.kwargs[output_dir_arg] = get_trial_dir()

    def argv(self) -> list[str]:
        """The command-line arguments the module gets (without the program name)."""
        argv = [str(arg) for arg in self.args]
        for key, value in self.kwargs.items():
            argv += [f"--{key}", str(value)]
        return argv

    def run(self) -> bool:
        """Run the module as ``__main__``; returns False (a script is one step)."""
        saved = sys.argv
        sys.argv = [""] + self.argv()
        try:
            runpy.run_module(self.script, run_name="__main__", alter_sys=True)
        except SystemExit as exc:
            if exc.code not in (None, 0):
                raise ScriptError(
                    f"the script {self.script} exited with status {exc.code}",
                    hint="see its output above",
                ) from exc
        finally:
            sys.argv = saved
        return False
