"""Start-up time of the ``flambe`` command.

Prints the median of 10 runs of ``flambe --help`` and ``flambe plugins``
beside the baseline ``python -c pass`` (target: at most 0.3 s each), and
checks that neither command imports torch, ray or a plugin's implementation
modules (only the plugins' entry-point modules).

Run: ``python bench/bench_cli.py`` (or ``bash scripts/bench cli``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import PYTHON, median_subprocess, report  # noqa: E402

TARGET_S = 0.3

IMPORT_CHECK = """
import json, sys
from flambe.cli.main import main
try:
    main({args!r})
except SystemExit:
    pass
from flambe.plugins.manager import get_host
allowed = set()
for record in get_host().records:
    parts = record.module.split(".")
    allowed.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
plugin_packages = tuple({{r.module.split(".plugin")[0] for r in get_host().records
                        if r.name != "core"}})
implementation = sorted(m for m in sys.modules
                        if plugin_packages and m.startswith(plugin_packages) and m not in allowed)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "ray"))
print(json.dumps({{"heavy": heavy, "implementation": implementation}}))
"""


def flambe_command() -> list[str]:
    """The installed console script, or ``python -m flambe.cli``."""
    script = shutil.which("flambe") or os.path.join(os.path.dirname(PYTHON), "flambe")
    if os.path.exists(script):
        return [script]
    return [PYTHON, "-m", "flambe.cli"]


def imports_of(args: list[str]) -> dict:
    out = (
        subprocess.run(
            [PYTHON, "-c", IMPORT_CHECK.format(args=args)],
            capture_output=True,
            text=True,
            check=False,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    return json.loads(out)


def main() -> int:
    os.environ.setdefault("FLAMBE_HOME", tempfile.mkdtemp(prefix="flambe-bench-home-"))
    baseline = median_subprocess([PYTHON, "-c", "pass"])
    command = flambe_command()
    failed = False
    for args in (["--help"], ["plugins"]):
        # `flambe plugins` exits 1 when a plugin is broken: time it all the same
        def run(args: list[str] = args) -> None:
            subprocess.run(command + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        from _common import median_time

        value = median_time(run, repeat=10, warmup=1)
        verdict = "ok" if value <= TARGET_S else "SLOWER than target"
        report(
            f"flambe {' '.join(args)}",
            value,
            baseline,
            f"target <= {TARGET_S:.1f}s: {verdict}",
            baseline_name="python -c pass",
        )
        found = imports_of(args)
        print(
            f"  imports torch/ray: {found['heavy'] or 'none'}; "
            f"plugin implementation modules: {found['implementation'] or 'none'}"
        )
        failed |= value > TARGET_S or bool(found["heavy"]) or bool(found["implementation"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
