"""The built-in plugin of flambe-core.

Registered by module path before any entry point, through the same hooks as
every other plugin. Importing it costs nothing: it only returns strings.
"""

from __future__ import annotations

from typing import Dict, Mapping

from flambe.plugins import hookimpl
from flambe.plugins.types import LazyCommand

CORE_TAGS: Dict[str, str] = {
    # links
    "@": "flambe.compile.link:Link",
    "link": "flambe.compile.link:Link",
    "Link": "flambe.compile.link:Link",
    "call": "flambe.compile.link:FunctionCallLink",
    "FunctionCallLink": "flambe.compile.link:FunctionCallLink",
    "$": "flambe.compile.link:PickledDataLink",
    "PickledDataLink": "flambe.compile.link:PickledDataLink",
    # runnables
    "Builder": "flambe.export.builder:Builder",
    # data
    "TabularDataset": "flambe.dataset.tabular:TabularDataset",
    "LabelField": "flambe.field.label:LabelField",
    "NumericField": "flambe.field.numeric:NumericField",
    "BaseSampler": "flambe.sampler.base:BaseSampler",
    "EpisodicSampler": "flambe.sampler.episodic:EpisodicSampler",
}


@hookimpl
def flambe_tags() -> Mapping[str, str]:
    return CORE_TAGS


@hookimpl
def flambe_tag_namespaces() -> Mapping[str, str]:
    return {
        "torch": "flambe.compile.namespaces:resolve_torch",
        "ray": "flambe.compile.namespaces:resolve_ray",
    }


@hookimpl
def flambe_storage_backends() -> Mapping[str, str]:
    return {
        "file": "flambe.storage:LocalBackend",
        "http": "flambe.storage:HTTPBackend",
        "https": "flambe.storage:HTTPBackend",
    }


@hookimpl
def flambe_cli_commands() -> Mapping[str, LazyCommand]:
    return {}
