"""``!Exporter``: group objects into one stage, to save and refer to them together."""

from __future__ import annotations

from typing import Any

from flambe.compile.component import Component


class Exporter(Component):
    """A stage that only holds objects, so they are saved together.

    Each keyword argument becomes an attribute, and part of the saved state:
    ``!Exporter {model: !@ train.model, text: !@ data.text}`` makes a stage
    whose checkpoint holds both, for a later ``!Builder`` or ``flambe.load``.

    Parameters
    ----------
    **kwargs
        The objects to hold.

    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        self._exported = list(kwargs)
        for name, value in kwargs.items():
            setattr(self, name, value)

    def run(self) -> bool:
        """Nothing to do: one step."""
        return False
