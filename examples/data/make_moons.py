"""Write moons.csv: two interleaved half-moons with noise, plus two noise features.

A small, learnable, non-linear classification problem that needs no
download. ``python examples/data/make_moons.py`` rewrites the file
identically (the generator is seeded).
"""

import csv
import os

import numpy as np

ROWS = 1200


def main() -> None:
    rng = np.random.default_rng(7)
    half = ROWS // 2
    angle = rng.uniform(0, np.pi, size=ROWS)
    label = np.array([0] * half + [1] * (ROWS - half))
    x = np.where(label == 0, np.cos(angle), 1 - np.cos(angle))
    y = np.where(label == 0, np.sin(angle), 0.5 - np.sin(angle))
    x += rng.normal(0, 0.15, ROWS)
    y += rng.normal(0, 0.15, ROWS)
    noise = rng.normal(0, 1, (ROWS, 2))
    order = rng.permutation(ROWS)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "moons.csv")
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["x", "y", "noise1", "noise2", "label"])
        for i in order:
            writer.writerow(
                [
                    f"{x[i]:.4f}",
                    f"{y[i]:.4f}",
                    f"{noise[i, 0]:.4f}",
                    f"{noise[i, 1]:.4f}",
                    ["upper", "lower"][label[i]],
                ]
            )


if __name__ == "__main__":
    main()
