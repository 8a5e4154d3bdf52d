"""Building components after an experiment and exporting them (``!Builder``, ``!Exporter``)."""

from flambe.export.builder import Builder
from flambe.export.exporter import Exporter

__all__ = ["Builder", "Exporter"]
