"""The compile layer: YAML tags, delayed initialisation, links, components, state.

Public names are resolved lazily so that ``import flambe.compile`` stays cheap.
"""

from __future__ import annotations

from flambe.utils.lazy import lazy_attributes

_LAZY = {
    "Registrable": "flambe.compile.registrable",
    "MappedRegistrable": "flambe.compile.registrable",
    "alias": "flambe.compile.registrable",
    "register": "flambe.compile.registrable",
    "registrable_factory": "flambe.compile.registrable",
    "registration_context": "flambe.compile.registrable",
    "RegistrationError": "flambe.errors",
    "yaml": "flambe.compile.yaml",
    "Schema": "flambe.compile.schema",
    "Component": "flambe.compile.component",
    "dynamic_component": "flambe.compile.component",
    "make_component": "flambe.compile.component",
    "Link": "flambe.compile.link",
    "FunctionCallLink": "flambe.compile.link",
    "PickledDataLink": "flambe.compile.link",
    "save": "flambe.compile.serialization",
    "load": "flambe.compile.serialization",
    "save_state_to_file": "flambe.compile.serialization",
    "load_state_from_file": "flambe.compile.serialization",
    "State": "flambe.compile.state",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
