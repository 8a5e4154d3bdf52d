"""Quality of examples/mnist.yaml: test accuracy and wall time of the whole experiment.

Runs ``flambe run examples/mnist.yaml`` as written (2 variants of a CNN on
Ray Tune under ASHA, reduce, evaluation), on the CPU, in a temporary
folder. The data is the 10,000-image MNIST test set: the example trains on
7,200 of its images, validates on 800 and evaluates on 2,000 held out.

Target: accuracy on the 2,000 held-out images ≥ 0.97, the whole run
(Ray start included) within 300 s on this machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "mnist.yaml"
FLAMBE = Path(sys.executable).with_name("flambe")
TARGET_ACCURACY, TARGET_SECONDS = 0.97, 300.0


def main() -> int:
    """Run the example once; print its accuracy and time; 0 when both meet the target."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        result = subprocess.run(
            [str(FLAMBE), "run", str(EXAMPLE)], cwd=folder, capture_output=True, text=True
        )
        seconds = time.perf_counter() - start
        if result.returncode != 0:
            print(result.stdout + result.stderr, file=sys.stderr)
            print(f"mnist example: failed after {seconds:.1f}s")
            return 1
        progress = json.loads(
            (Path(folder) / "flambe-output" / "output__mnist" / "progress.json").read_text()
        )
    (evaluation,) = progress["stages"]["evaluate"]["variants"].values()
    accuracy = evaluation["last_metric"]
    kept = evaluation["name"]
    validation = {
        v["name"]: round(v["best_metric"], 4)
        for v in progress["stages"]["train"]["variants"].values()
    }
    print(f"validation accuracy by variant: {validation}; kept {kept}")
    print(f"mnist test accuracy: {accuracy:.4f}  (target >= {TARGET_ACCURACY})")
    print(f"mnist wall time: {seconds:.1f}s  (target <= {TARGET_SECONDS:.0f}s)", flush=True)
    return 0 if accuracy >= TARGET_ACCURACY and seconds <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
