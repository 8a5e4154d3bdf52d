"""Committed checkpoints of a variant: the state and the record of its step, visible together.

A variant folder keeps its checkpoints as versions, and one pointer::

    checkpoints/step-000022-1a2b3c4d/   a flambe.save of the stage, plus
        trial.json                      the record of that step (step, metrics, done)
        rng.pt                          the random generators' states after that step
    checkpoint -> checkpoints/step-000022-1a2b3c4d   (a relative symlink)

A new checkpoint is written completely into a fresh version folder, then
the ``checkpoint`` symlink is switched to it with one ``rename`` (the
commit point), then the older versions are removed. A kill at any instant
leaves ``checkpoint`` pointing at a complete, matching pair: the previous
one or the new one. Resuming reads only through the pointer, so a version
written but not committed is ignored (and removed by the next commit or
resume). ``variant/checkpoint`` stays a path that ``flambe.load`` and
upstream links read as before.

Durability: the faults a run survives are those of its processes (``kill
-9``, Ctrl-C, a worker that crashes or is killed for memory). None of them
loses what a process had written, so the commit syncs nothing to disk: the
rename of the pointer comes after every file of the version was written,
and that order is all a kill can observe. A power loss or a crash of the
machine is another matter: making the pointer's rename durable only after
its version would take a sync of every file and folder of the version on
every step, a cost most of a short step's checkpoint. It is not paid; after
such a crash the latest checkpoints of the running variants may be lost or
unreadable, and the variants that had finished are intact once the
operating system had written them out (within seconds, usually).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import uuid
from typing import Any

from flambe.utils.atomic import disk_full_error, is_disk_full, remove_stale_temps, write_json_atomic
from flambe.utils.faults import fault_point

logger = logging.getLogger(__name__)

POINTER = "checkpoint"
VERSIONS = "checkpoints"
RECORD_FILE = "trial.json"
RNG_FILE = "rng.pt"


def committed_record(variant_dir: str) -> dict[str, Any] | None:
    """Read the record of the committed checkpoint of a variant folder (None if there is none)."""
    path = os.path.join(variant_dir, POINTER, RECORD_FILE)
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_versioned(variant_dir: str) -> bool:
    """Whether the variant's ``checkpoint`` is a committed pointer (not an older plain folder)."""
    return os.path.islink(os.path.join(variant_dir, POINTER))


def rng_state() -> dict[str, Any]:
    """Return the states of the Python, NumPy and torch global generators (plain tensors)."""
    import random

    import numpy as np
    import torch

    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {
        "python": torch.tensor(list(internal), dtype=torch.int64),
        "python_version": int(version),
        "python_gauss": gauss,
        "numpy": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
        "numpy_name": str(name),
        "numpy_pos": int(pos),
        "numpy_has_gauss": int(has_gauss),
        "numpy_gauss": float(cached),
        "torch": torch.get_rng_state(),
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    import random

    import numpy as np
    import torch

    random.setstate(
        (
            state["python_version"],
            tuple(int(v) for v in state["python"].tolist()),
            state["python_gauss"],
        )
    )
    np.random.set_state(
        (
            state["numpy_name"],
            state["numpy"].numpy().astype(np.uint32),
            state["numpy_pos"],
            state["numpy_has_gauss"],
            state["numpy_gauss"],
        )
    )
    torch.set_rng_state(state["torch"])


def load_rng(checkpoint: str) -> bool:
    """Restore the generators saved with a checkpoint; False when it holds none."""
    import torch

    path = os.path.join(checkpoint, RNG_FILE)
    if not os.path.exists(path):
        return False
    set_rng_state(torch.load(path, weights_only=True))
    return True


def commit(variant_dir: str, component: Any, record: dict[str, Any], what: str = "") -> str:
    """Write a checkpoint of ``component`` with ``record`` and make it the committed one.

    Parameters
    ----------
    variant_dir : str
        The variant folder.
    component : Any
        What to save (with ``flambe.save``).
    record : dict
        The trial record of this step (``step``, ``done``, metrics...), JSON-able.
    what : str
        Names the variant in errors (``"train/lr=0.1"``).

    Returns
    -------
    str
        The pointer, ``<variant_dir>/checkpoint``.

    Raises
    ------
    DiskFullError
        The disk filled up while writing; the previous checkpoint is still the committed one.

    """
    import torch

    from flambe.compile.serialization import save

    versions = os.path.join(variant_dir, VERSIONS)
    os.makedirs(versions, exist_ok=True)
    name = f"step-{int(record.get('step', 0)):06d}-{uuid.uuid4().hex[:8]}"
    target = os.path.join(versions, name)
    try:
        save(component, target)
        fault_point("checkpoint.saved", target)
        torch.save(rng_state(), os.path.join(target, RNG_FILE))
        # not synced: see the module's note on durability
        write_json_atomic(os.path.join(target, RECORD_FILE), record, sync=False)
    except Exception as exc:
        shutil.rmtree(target, ignore_errors=True)
        if is_disk_full(exc):
            raise disk_full_error(
                target, f"the checkpoint of {what}" if what else "the checkpoint"
            ) from exc
        raise
    fault_point("checkpoint.written", target)
    switch_pointer(variant_dir, name)
    fault_point("checkpoint.committed", target)
    prune(variant_dir)
    return os.path.join(variant_dir, POINTER)


def switch_pointer(variant_dir: str, name: str) -> None:
    """Point ``<variant_dir>/checkpoint`` at version ``name`` in one rename."""
    pointer = os.path.join(variant_dir, POINTER)
    fresh = f"{pointer}.new-{uuid.uuid4().hex[:8]}"
    os.symlink(os.path.join(VERSIONS, name), fresh)
    if os.path.isdir(pointer) and not os.path.islink(pointer):
        # a plain folder written by an older version: set it aside among the versions
        os.rename(pointer, os.path.join(variant_dir, VERSIONS, f"plain-{uuid.uuid4().hex[:8]}"))
    os.replace(fresh, pointer)


def prune(variant_dir: str) -> None:
    """Remove the versions the pointer does not name, and pointers never switched to."""
    pointer = os.path.join(variant_dir, POINTER)
    current = os.path.basename(os.readlink(pointer)) if os.path.islink(pointer) else None
    versions = os.path.join(variant_dir, VERSIONS)
    if os.path.isdir(versions):
        for entry in os.listdir(versions):
            if entry != current:
                path = os.path.join(versions, entry)
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    try:
                        os.remove(path)
                    except OSError:
                        pass
    remove_stale_temps(variant_dir)
    for entry in os.listdir(variant_dir) if os.path.isdir(variant_dir) else []:
        if entry.startswith(f"{POINTER}.new-"):
            try:
                os.remove(os.path.join(variant_dir, entry))
            except OSError:
                pass
