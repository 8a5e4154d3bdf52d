"""The Flambé error hierarchy.

Every error Flambé raises on bad input derives from :class:`FlambeError`.
Errors about a configuration carry the place in the YAML file they concern
(:class:`SourceLocation`) and a hint that says what to do about it; their
message reads ``file:line:column: what is wrong`` followed by the hint.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SourceLocation:
    """A position in a YAML file (line and column are 1-based).

    Parameters
    ----------
    file : str
        The file name, or ``<string>`` for YAML given as text.
    line : int
        The line, counting from 1.
    column : int
        The column, counting from 1.

    """

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"

    @classmethod
    def from_mark(cls, mark: object, file: str | None = None) -> SourceLocation:
        """Build a location from a ruamel.yaml mark (0-based line and column)."""
        name = file or getattr(mark, "name", None) or "<string>"
        return cls(str(name), getattr(mark, "line", 0) + 1, getattr(mark, "column", 0) + 1)


class FlambeError(Exception):
    """Root of every error Flambé raises on purpose.

    Parameters
    ----------
    message : str
        What is wrong.
    location : SourceLocation, optional
        Where in a configuration file the problem is.
    hint : str, optional
        What to do about it.

    """

    def __init__(
        self, message: str, location: SourceLocation | None = None, hint: str | None = None
    ) -> None:
        self.message = message
        self.location = location
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text

    def at(self, location: SourceLocation | None) -> FlambeError:
        """Attach a location when the error has none yet; returns ``self``."""
        if self.location is None and location is not None:
            self.location = location
            self.args = (self._render(),)
        return self

    def __str__(self) -> str:
        return self._render()


class ConfigError(FlambeError):
    """A configuration cannot be loaded, compiled or run as written."""


class YAMLSyntaxError(ConfigError):
    """The file is not valid YAML."""


class UnknownTagError(ConfigError):
    """A ``!Tag`` names no registered class."""


class DuplicateTagError(FlambeError):
    """Two plugins (or a plugin and user code) claim the same tag."""


class RegistrationError(FlambeError):
    """A class or factory cannot be registered, or has no tag to dump with."""


class LinkError(ConfigError):
    """A ``!@`` link cannot be resolved."""


class MalformedLinkError(LinkError):
    """A link string does not follow ``root[key][key].attr.attr``."""


class UnpreparedLinkError(LinkError):
    """A link points to something not compiled yet: a later stage or an ancestor."""


class CompilationError(ConfigError):
    """A component cannot be built from its configuration."""


class ArgumentError(CompilationError):
    """Unknown or missing constructor arguments."""


class ExtensionError(ConfigError):
    """An extension declared in a config header is missing or cannot be installed."""


class PluginError(FlambeError):
    """A plugin failed to load or misbehaves."""


class LoadError(FlambeError):
    """A saved object or state cannot be loaded."""


class SaveError(FlambeError):
    """An object cannot be saved so that it loads back (an argument YAML cannot hold)."""


class VersionMismatchError(LoadError):
    """A saved state comes from an incompatible class version."""


class RunnableError(ConfigError):
    """The top-level object of a config cannot be run as asked."""


class ExperimentFailed(FlambeError):
    """Variants of an experiment failed while running (not a configuration problem).

    Raised at the stage where a variant failed with ``stop_on_failure``, or
    at the end of the run otherwise; the message names the first failed
    variant and its error. The ``flambe`` command exits with status 1.
    """


class DataError(FlambeError, ValueError):
    """Data cannot be loaded, processed or batched as asked.

    Also a ``ValueError``, so code that catches the built-in error for bad
    values keeps working.
    """


class OutputBusyError(FlambeError):
    """An experiment's output folder is held by another running ``flambe run``.

    The ``flambe`` command exits with status 16 (``EBUSY``) on this error.
    """


class DiskFullError(FlambeError, OSError):
    """A file could not be written because its file system is full (or over quota).

    Also an ``OSError``. The ``flambe`` command exits with status 28
    (``ENOSPC``) on this error.
    """
