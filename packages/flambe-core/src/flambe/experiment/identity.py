"""What a variant is called and who it is: its folder name and its identity.

The one owner of both, for variants listed up front (grid, ``!s``,
distributions) and for variants a search algorithm proposes trial by trial:

- the identity is a hash of the resolved config, the identities of the
  upstream variants it builds on (its lineage) and the versions of its
  classes, with a hash of the source of the user's own classes
  (:func:`variant_identity`, :mod:`flambe.experiment.code_versions`);
- the parameters shown for a variant are its own chosen values keyed by their
  shortest unambiguous path, after the ones it inherits
  (:func:`variant_params`);
- the folder name is built from those parameters, readable and
  filesystem-safe (``n_layers=2,lr=0.01``), unique within the stage
  (:func:`folder_name`, :func:`unique_names`).

:class:`Variant` is the record of all this; it is written to each variant's
``variant.json`` and read back with :meth:`Variant.from_json`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flambe.compile import tree
from flambe.compile.schema import Schema
from flambe.experiment.code_versions import class_version

Params = list[tuple[str, Any]]
MAX_NAME = 120
VARIANT_FILE = "variant.json"
_UNSAFE = re.compile(r"[^A-Za-z0-9._=,+@-]")


@dataclass
class Variant:
    """One way to run a stage.

    Parameters
    ----------
    stage : str
        The stage it belongs to.
    id : str
        Stable identity (a hash of the resolved config, lineage and class versions).
    name : str
        The folder name: readable, filesystem-safe, unique within the stage.
    params : dict
        The values chosen for this variant and for its upstream variants.
    config_text : str
        The stage's config with every option replaced by its value, as YAML.
    lineage : dict
        Upstream stage -> id of the variant this one builds on (transitively).
    own_params : dict
        The values chosen for this stage's own options.

    """

    stage: str
    id: str
    name: str
    params: dict[str, Any]
    config_text: str
    lineage: dict[str, str] = field(default_factory=dict)
    own_params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Return the record written to ``variant.json`` and ``progress.json`` (no config)."""
        return {
            "stage": self.stage,
            "id": self.id,
            "name": self.name,
            "params": self.params,
            "own_params": self.own_params,
            "lineage": self.lineage,
        }

    @classmethod
    def from_json(cls, info: Mapping[str, Any]) -> Variant:
        """Read a variant back from its ``variant.json`` record (which holds its config).

        Parameters
        ----------
        info : Mapping
            What :func:`identify` produced, ``config`` included.

        Returns
        -------
        Variant
            The same variant.

        """
        return cls(
            info["stage"],
            info["id"],
            info["name"],
            dict(info["params"]),
            info["config"],
            dict(info["lineage"]),
            dict(info.get("own_params", {})),
        )


def short_keys(params: Params) -> dict[str, Any]:
    """Key params by their last path segment, or more segments where that is ambiguous.

    Parameters
    ----------
    params : list of (path, value)
        Dotted option paths and their chosen values.

    Returns
    -------
    dict
        Shortest unambiguous key -> value.

    """
    paths = [p for p, _ in params]
    out: dict[str, Any] = {}
    for path, value in params:
        parts = path.split(".") if path else ["value"]
        key = parts[-1]
        for size in range(1, len(parts) + 1):
            key = ".".join(parts[-size:])
            if sum(1 for other in paths if other == key or other.endswith("." + key)) <= 1:
                break
        out[key] = value
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"  # folder names stay short; ties get the id appended
    return str(value)


def folder_name(params: Mapping[str, Any], variant_id: str) -> str:
    """Return a readable, filesystem-safe folder name (``default`` when nothing varies).

    Parameters
    ----------
    params : Mapping
        The variant's parameters.
    variant_id : str
        Its identity; its start ends names cut at :data:`MAX_NAME` characters.

    Returns
    -------
    str
        The name.

    """
    if not params:
        return "default"
    text = ",".join(f"{k}={_fmt(v)}" for k, v in params.items())
    text = _UNSAFE.sub("_", text)
    if len(text) > MAX_NAME:
        text = text[: MAX_NAME - 9] + "-" + variant_id[:8]
    return text


def variant_identity(
    stage: str, config_text: str, lineage: Mapping[str, str], versions: Mapping[str, str]
) -> str:
    """Return a stable hash of what defines a variant.

    Parameters
    ----------
    stage : str
        The stage.
    config_text : str
        Its resolved config, as YAML.
    lineage : Mapping
        Upstream stage -> variant id.
    versions : Mapping
        ``module:Class`` -> version, for the classes of the stage.

    Returns
    -------
    str
        A SHA-1 hex digest.

    """
    payload = json.dumps(
        {
            "stage": stage,
            "config": config_text,
            "lineage": dict(sorted(lineage.items())),
            "versions": dict(sorted(versions.items())),
        },
        sort_keys=True,
    )
    return hashlib.sha1(payload.encode("utf-8")).hexdigest()


def class_versions(value: Any) -> dict[str, str]:
    """Map ``module:Class`` to its version for every component in a config.

    The version is ``_flambe_version``; for a class that is the user's own
    code (not from an installed, versioned distribution) a hash of its
    source follows it (:func:`~flambe.experiment.code_versions.class_version`),
    so editing that code changes the identity of the variants using it.

    Parameters
    ----------
    value : Any
        A config tree.

    Returns
    -------
    dict
        Class path -> version (``0.0.0`` when the class declares none).

    """
    found: dict[str, str] = {}
    for node in tree.walk(value):
        if isinstance(node, Schema):
            cls = node.component_subclass
            found[f"{cls.__module__}:{cls.__qualname__}"] = class_version(cls)
    return found


def variant_params(stage: str, inherited: Iterable[tuple[str, Any]], own: Params) -> dict[str, Any]:
    """Return the parameters shown for a variant: inherited ones, then its own.

    An own key that an inherited one already uses is prefixed with the stage.

    Parameters
    ----------
    stage : str
        The stage.
    inherited : iterable of (key, value)
        The parameters of the upstream variants it builds on.
    own : list of (path, value)
        The values chosen for the stage's own options, by dotted path.

    Returns
    -------
    dict
        Key -> value.

    """
    out: dict[str, Any] = dict(inherited)
    for key, value in short_keys(own).items():
        out[f"{stage}.{key}" if key in out else key] = value
    return out


def identify(
    stage: str,
    config_text: str,
    own: Params,
    lineage: Mapping[str, str],
    inherited: Iterable[tuple[str, Any]],
    versions: Mapping[str, str],
    trial_id: str | None = None,
) -> Variant:
    """Name and identify one variant.

    Parameters
    ----------
    stage : str
        The stage.
    config_text : str
        The resolved config of the stage, as YAML.
    own : list of (path, value)
        The values chosen for the stage's own options.
    lineage : Mapping
        Upstream stage -> variant id.
    inherited : iterable of (key, value)
        The parameters of the upstream variants.
    versions : Mapping
        The versions of the stage's classes (:func:`class_versions`).
    trial_id : str, optional
        For a variant a search algorithm proposed: its trial. Several trials
        may propose the same values, so it is part of the identity and the
        folder name.

    Returns
    -------
    Variant
        Its name is :func:`folder_name` (with the trial id appended); names
        of variants listed together are made unique by :func:`unique_names`.

    """
    vid = variant_identity(stage, config_text, lineage, versions)
    params = variant_params(stage, inherited, own)
    name = folder_name(params, vid)
    if trial_id is not None:
        vid = f"{vid}-{trial_id}"
        name = f"{folder_name(params, vid)}-{trial_id}"
    return Variant(stage, vid, name, params, config_text, dict(lineage), short_keys(own))


def unique_names(variants: Sequence[Variant]) -> None:
    """Append the start of the identity to folder names that several variants share.

    Parameters
    ----------
    variants : sequence of Variant
        The variants of one stage (their names are changed in place).

    """
    names = [v.name for v in variants]
    counts = Counter(names)
    for variant, name in zip(variants, names, strict=True):
        if counts[name] > 1:
            variant.name = f"{name}-{variant.id[:8]}"


def variant_record(variant: Variant) -> dict[str, Any]:
    """Return what ``variant.json`` holds: :meth:`Variant.to_json` and the resolved config.

    Parameters
    ----------
    variant : Variant
        The variant.

    Returns
    -------
    dict
        The record :meth:`Variant.from_json` reads back.

    """
    return {**variant.to_json(), "config": variant.config_text}


def read_variant(folder: str) -> Variant | None:
    """Read the variant a folder holds from its ``variant.json`` (``None``: none there).

    Parameters
    ----------
    folder : str
        A variant folder.

    Returns
    -------
    Variant or None
        The variant, when its record holds its config (every searched variant's does).

    """
    path = os.path.join(folder, VARIANT_FILE)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as handle:
        info = json.load(handle)
    return Variant.from_json(info) if "config" in info else None
