"""A training script that reads its arguments with argparse (docs section 13.1).

It logs ``arg1`` through ``flambe.log`` and, when ``MY_PROJECT_RECORD``
names a file, appends the arguments it received to it, so a test can see
that each variant ran with its own arguments.
"""

import argparse
import os

parser = argparse.ArgumentParser()
parser.add_argument("--arg1", type=int, required=True)
parser.add_argument("--arg2", required=True)

if __name__ == "__main__":
    options = parser.parse_args()
    from flambe import log

    log("arg1", options.arg1, 0)
    record = os.environ.get("MY_PROJECT_RECORD")
    if record:
        with open(record, "a") as handle:
            handle.write(f"{options.arg1} {options.arg2}\n")
