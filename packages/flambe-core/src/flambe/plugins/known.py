"""Tags of Flambé's own plugin distributions, for helpful errors.

When a config uses a tag that no installed plugin declares, Flambé looks it
up here to say which distribution provides it. A test keeps this table in
step with what the first-party plugins declare.
"""

from __future__ import annotations

from typing import Dict, Optional

# tag name -> distribution that declares it
KNOWN_TAGS: Dict[str, str] = {}

# tag namespace prefix -> distribution that declares it
KNOWN_NAMESPACES: Dict[str, str] = {}

# URL scheme -> distribution that serves it
KNOWN_SCHEMES: Dict[str, str] = {"s3": "flambe-cluster"}


def distribution_for_tag(tag: str) -> Optional[str]:
    """The first-party distribution that declares ``tag``, if any."""
    tag = tag.lstrip("!")
    if tag in KNOWN_TAGS:
        return KNOWN_TAGS[tag]
    prefix = tag.split(".", 1)[0]
    return KNOWN_NAMESPACES.get(prefix) if "." in tag else None
