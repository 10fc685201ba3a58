"""Read the Google API discovery documents that ``google-api-python-client`` ships: the I/O edge.

They are the official, versioned description of every REST resource (field
names, types, enums, formats), and the client keeps a copy offline, so the
resource check needs neither the network nor credentials. Only the package's
files are read; it is never imported (no HTTP stack is loaded).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

DOCUMENTS = ("cloudscheduler.v1", "logging.v2", "monitoring.v3")
PACKAGE = "google-api-python-client"


class DiscoveryUnavailable(Exception):
    """The client library (and with it the discovery documents) is not installed."""


def documents_directory() -> Path:
    """Where the installed ``googleapiclient`` keeps its discovery documents."""
    spec = importlib.util.find_spec("googleapiclient")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        directory = Path(location) / "discovery_cache" / "documents"
        if directory.is_dir():
            return directory
    raise DiscoveryUnavailable(f"the discovery documents come with {PACKAGE}; install it "
                               "(pip install 'phasegate[deploy]') to check the deploy/ "
                               "resources")


def load_discovery(names: tuple[str, ...] = DOCUMENTS) -> dict[str, dict[str, Any]]:
    """Each named document (``api.version``) as parsed JSON."""
    directory = documents_directory()
    loaded: dict[str, dict[str, Any]] = {}
    for name in names:
        path = directory / f"{name}.json"
        try:
            loaded[name] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise DiscoveryUnavailable(f"{path}: cannot read: {error}") from error
    return loaded
