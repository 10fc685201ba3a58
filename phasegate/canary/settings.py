"""Build the canary's settings: from the registry (command line) or expected.json (function)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from phasegate.canary.evaluate import Settings


def read_calendar(path: Path) -> frozenset[str]:
    """Run keys (YYYY-MM-DD) on which a run is expected, one per line; # starts a comment."""
    import datetime as dt

    keys = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            keys.add(dt.date.fromisoformat(text).isoformat())
        except ValueError as error:
            raise ValueError(f"{path}:{number}: {text!r} is not a date (YYYY-MM-DD)") from error
    return frozenset(keys)


def settings_from(expectations: dict[str, Any], root: Path) -> Settings:
    calendar = expectations["canary"].get("calendar")
    keys = read_calendar(root / calendar) if calendar else frozenset()
    return Settings(expectations, keys)


def settings_from_registry(registry: Any, shown: str, root: Path) -> Settings:
    from phasegate.registry.generate import render_json

    return settings_from(json.loads(render_json(registry, shown)), root)
