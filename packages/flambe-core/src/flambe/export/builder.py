"""``!Builder``: build a component from a config and save it somewhere.

A builder decouples inference code from experiments: it builds any
component (say an inference engine around a model loaded with
``!MyModel.load_from_path``) and saves it with :func:`flambe.save` to a local
folder or to any URL a storage plugin serves (``s3://`` with flambe-cluster).
``flambe.load(destination)`` gives the object back.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from flambe.errors import RunnableError
from flambe.runnable.runnable import Runnable

logger = logging.getLogger(__name__)


class Builder(Runnable):
    """Build a component and save it to a destination.

    Parameters
    ----------
    component : Component
        The object to build and save.
    destination : str
        A local folder, or a URL whose scheme a storage plugin serves.
    storage : str, optional
        The docs' form: ``"local"`` or a URL scheme such as ``"s3"``; with a
        scheme, ``destination`` is taken relative to it (``s3://destination``).
    compress : bool
        Save a single ``.tar.gz`` archive instead of a folder.
    pickle_only : bool
        Save one pickle file instead of the folder of components.

    Examples
    --------
    .. code-block:: yaml

        !Builder
        destination: exported/model
        component: !torch.Linear {in_features: 4, out_features: 2}

    """

    def __init__(
        self,
        component: Any,
        destination: str,
        storage: str = "local",
        compress: bool = False,
        pickle_only: bool = False,
    ) -> None:
        super().__init__()
        self.component = component
        self.destination = destination
        self.storage = storage
        self.compress = compress
        self.pickle_only = pickle_only
        from flambe import storage as storage_module

        # refused here, before anything runs: a URL nobody serves is no local folder
        storage_module.backend_for(self.url, "Builder destination")

    @property
    def url(self) -> str:
        """Where the component goes, as a path or URL."""
        if self.storage in ("local", "file", "", None) or "://" in self.destination:
            return self.destination
        return f"{self.storage}://{self.destination}"

    def run(self, force: bool = False, **kwargs: Any) -> bool:
        """Save the component; ``force`` replaces what is at the destination."""
        from flambe import storage
        from flambe.compile.serialization import DestinationExistsError, save

        url = self.url
        if storage.is_local(url) and "://" not in url:
            url = self.path_from_config(url)  # relative: from the config's folder
        try:
            written = save(
                self.component,
                url,
                compress=self.compress,
                pickle_only=self.pickle_only,
                overwrite=force,
            )
        except DestinationExistsError as exc:
            raise RunnableError(
                f"{url} exists already",
                hint="pass --force to replace it, or choose another destination",
            ) from exc
        where = os.path.abspath(written) if storage.is_local(url) else written
        logger.info("Saved %s to %s", type(self.component).__name__, where)
        return False
