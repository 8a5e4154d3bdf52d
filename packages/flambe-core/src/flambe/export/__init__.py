"""Building components after an experiment and exporting them (``!Builder``)."""

from flambe.export.builder import Builder

__all__ = ["Builder"]
