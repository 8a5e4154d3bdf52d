"""Runnables: the top-level objects the ``flambe`` command runs.

A :class:`Runnable` is an ordinary delayed-initialisation
:class:`~flambe.compile.Component` with one required method, ``run()``.
Because it is a Component, ``flambe validate`` can check a runnable config
(tags, links, argument names) without constructing anything; the command
line compiles the root schema only when it is about to run it.

After compiling, the command line injects what the object could not get
from its YAML: the secrets file (:meth:`Runnable.inject_secrets`), the
extensions header (:meth:`Runnable.inject_extensions`) and the original
YAML text (:meth:`Runnable.inject_content`).
"""

from __future__ import annotations

import configparser
import os
from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, Protocol

from flambe.compile.component import Component, constructor_signature
from flambe.errors import ConfigError
from flambe.runnable.environment import RemoteEnvironment


class ClusterLike(Protocol):
    """What a :class:`ClusterRunnable` needs of the cluster it is prepared for.

    :class:`flambe.runnable.cluster.Cluster` has it; this module does not
    import that one, which builds on :class:`Runnable`.
    """

    def get_remote_env(self) -> RemoteEnvironment:
        """Return the environment a runnable finds on the cluster."""
        ...


# instance attributes used by the lazy properties below; kept out of the
# way of constructor arguments, since subclasses need not call __init__
_SECRETS = "_flambe_secrets"
_EXTENSIONS = "_flambe_run_extensions"
_CONTENT = "_flambe_content"


class Runnable(Component):
    """Base class of everything ``flambe run`` can run.

    Subclasses implement :meth:`run`. They may accept the command-line
    flags ``force``, ``verbose`` and ``debug`` as keyword arguments of
    ``run``; the command line passes only those the signature names (or all
    of them to ``**kwargs``).

    Attributes
    ----------
    config : configparser.ConfigParser
        The secrets given with ``--secrets``; a fresh runnable's config has
        only the ``DEFAULT`` section. Read them as
        ``self.config["AWS"]["ACCESS_KEY"]``.
    extensions : dict
        The extensions header of the config the runnable came from
        (module name -> location).
    content : str, optional
        The YAML text of that config.

    Examples
    --------
    >>> class Hello(Runnable):
    ...     def __init__(self, name: str) -> None:
    ...         super().__init__()
    ...         self.name = name
    ...     def run(self, force: bool = False, **kwargs) -> None:
    ...         print(f"hello {self.name}")

    """

    # -- injected state (lazy, so subclasses need not call super().__init__) --
    @property
    def config(self) -> configparser.ConfigParser:
        """The user's secrets (``flambe run --secrets``), as a ConfigParser (empty when none)."""
        value = self.__dict__.get(_SECRETS)
        if value is None:
            value = configparser.ConfigParser()
            self.__dict__[_SECRETS] = value
        return value

    @config.setter
    def config(self, value: configparser.ConfigParser) -> None:
        self.__dict__[_SECRETS] = value

    @property
    def extensions(self) -> dict[str, str]:
        """Module name to location of the extensions this runnable was loaded with."""
        return self.__dict__.setdefault(_EXTENSIONS, {})

    @extensions.setter
    def extensions(self, value: Mapping[str, str]) -> None:
        self.__dict__[_EXTENSIONS] = dict(value)

    @property
    def content(self) -> str | None:
        """The text of the config this runnable was loaded from, when known."""
        return self.__dict__.get(_CONTENT)

    @content.setter
    def content(self, value: str | None) -> None:
        self.__dict__[_CONTENT] = value

    # -- injection ----------------------------------------------------------
    def inject_secrets(self, secrets: str | os.PathLike[str]) -> None:
        """Read an INI file of secrets into :attr:`config`.

        Parameters
        ----------
        secrets : str or PathLike
            The path of the INI file (``[SECTION]`` then ``KEY = value`` lines).

        Raises
        ------
        ConfigError
            When the file does not exist, cannot be read or is not valid INI
            (for example, has no ``[SECTION]`` header); the original
            ``configparser`` error is chained.

        """
        path = os.fspath(secrets)
        if not os.path.isfile(path):
            raise ConfigError(
                f"secrets file {path!r} does not exist",
                hint="pass an existing INI file to --secrets",
            )
        # values are taken literally ('%' needs no escaping), and no error quotes them
        parser = configparser.ConfigParser(interpolation=None)
        problem = None
        try:
            with open(path, encoding="utf-8") as handle:
                parser.read_file(handle, source=path)
        except configparser.Error as exc:
            problem = _secrets_problem(exc)
        except UnicodeDecodeError as exc:
            problem = f"is not UTF-8 text (byte {exc.start})"
        except OSError as exc:
            problem = f"cannot be read: {exc.strerror or type(exc).__name__}"
        if problem is not None:  # raised here, with no chained error that could quote a line
            raise ConfigError(
                f"secrets file {path!r} {problem}",
                hint="write a section header such as [AWS], then KEY = value lines "
                "(the offending line is not shown: it may hold a secret)",
            )
        self.config = parser

    def inject_extensions(self, extensions: Mapping[str, str]) -> None:
        """Record the extensions header the runnable was loaded with.

        They are kept on the object so that it can be saved and run again
        elsewhere (a cluster, ``flambe.load``) with the same extensions.
        """
        self.extensions = dict(extensions)
        existing = getattr(self, "_extensions", None)
        merged = dict(existing) if isinstance(existing, Mapping) else {}
        merged.update(extensions)
        try:
            self._extensions = merged
        except AttributeError:  # pragma: no cover - a read-only attribute in a subclass
            pass

    def path_from_config(self, path: str | os.PathLike[str]) -> str:
        """The absolute path of a path written in this runnable's config (outputs included).

        A relative path starts from the folder of the config file the runnable
        was loaded from, as an experiment's resources do (from the current
        folder when it was built in Python); ``~`` is expanded.
        """
        expanded = os.path.expanduser(os.fspath(path))
        if os.path.isabs(expanded):
            return expanded
        location = getattr(getattr(self, "_schema", None), "location", None)
        if location is not None and os.path.isfile(location.file):
            return os.path.join(os.path.dirname(os.path.abspath(location.file)), expanded)
        return os.path.abspath(expanded)

    def inject_content(self, content: str) -> None:
        """Record the YAML text of the config the runnable came from."""
        self.content = content

    # -- behaviour ------------------------------------------------------------
    def parse(self) -> None:
        """Check the runnable can run, before :meth:`run`; raise a ConfigError if not.

        Called by the command line after injection. The default does nothing.
        """

    @abstractmethod
    def run(self, **kwargs: Any) -> Any:
        """Do the work. Receives any of ``force``, ``verbose``, ``debug`` it names."""


class ClusterRunnable(Runnable):
    """A runnable that can also run on a cluster (``flambe run --cluster``).

    The cluster is brought up by the ``flambe-cluster`` distribution. Before
    the runnable is shipped to the cluster, :meth:`setup_inject_env` calls
    :meth:`setup` and records the cluster's :class:`RemoteEnvironment` in
    :attr:`env`, which ``run()`` can read on the cluster.

    Attributes
    ----------
    env : RemoteEnvironment, optional
        Set only when running on a cluster.

    """

    # arguments every ClusterRunnable accepts whatever its constructor names
    # (read by flambe.compile.component.check_arguments, so validate agrees)
    _flambe_extra_arguments = ("env",)

    @classmethod
    def compile(cls, **kwargs: Any) -> Any:
        """Build as any component; an ``env`` the constructor does not name is set afterwards.

        A ClusterRunnable shipped to a cluster carries its ``env`` in its
        YAML (see :meth:`set_serializable_attr`), whether or not the
        subclass's constructor takes an ``env`` argument.
        """
        extras: dict[str, Any] = {}
        sig = constructor_signature(cls, kwargs.get("_flambe_custom_factory_name"))
        for key in cls._flambe_extra_arguments:
            named = sig is not None and (
                key in sig.parameters
                or any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
            )
            if key in kwargs and not named:
                extras[key] = kwargs.pop(key)
        instance = super().compile(**kwargs)
        for key, value in extras.items():
            if value is not None:
                instance.set_serializable_attr(key, value)
        return instance

    @property
    def env(self) -> RemoteEnvironment | None:
        """The cluster's environment, set when the runnable runs on a cluster (else None)."""
        return self.__dict__.get("env")

    @env.setter
    def env(self, value: RemoteEnvironment | None) -> None:
        self.__dict__["env"] = value

    @abstractmethod
    def setup(
        self, cluster: ClusterLike, extensions: dict[str, str], force: bool, **kwargs: Any
    ) -> None:
        """Prepare ``cluster`` to run this runnable (folders, resources, ...).

        Parameters
        ----------
        cluster : ClusterLike
            The cluster it will run on.
        extensions : dict
            The extensions, with locations valid on the cluster.
        force : bool
            The ``--force`` flag.

        """

    def setup_inject_env(
        self, cluster: ClusterLike, extensions: dict[str, str], force: bool, **kwargs: Any
    ) -> None:
        """Call :meth:`setup`, then record the cluster's environment in :attr:`env`."""
        self.setup(cluster=cluster, extensions=extensions, force=force, **kwargs)
        self.set_serializable_attr("env", cluster.get_remote_env())

    def set_serializable_attr(self, attr: str, value: Any) -> None:
        """Set an attribute so that saving the object to YAML keeps the new value.

        The value is set on the object and mirrored into the keyword
        arguments the object was built from (when it was built from a
        config), which is what is written back when the object is dumped.
        """
        setattr(self, attr, value)
        saved = getattr(self, "_saved_kwargs", None)
        if isinstance(saved, dict):
            saved[attr] = value


def _secrets_problem(exc: Exception) -> str:
    """What is wrong with a secrets file, naming lines but never their content."""
    if isinstance(exc, configparser.MissingSectionHeaderError):
        return f"is not a valid INI file: line {exc.lineno} comes before any [SECTION] header"
    if isinstance(exc, configparser.DuplicateOptionError):
        return (
            f"is not a valid INI file: line {exc.lineno} repeats key {exc.option!r} of "
            f"section [{exc.section}]"
        )
    if isinstance(exc, configparser.DuplicateSectionError):
        return f"is not a valid INI file: line {exc.lineno} repeats section [{exc.section}]"
    if isinstance(exc, configparser.ParsingError):
        numbers = ", ".join(str(number) for number, _ in exc.errors)
        return f"is not a valid INI file: line {numbers} is not a 'KEY = value' line"
    return f"is not a valid INI file ({type(exc).__name__})"
