"""Build the canary's settings: from the registry (command line) or expected.json (function).

Both go through the same generated JSON, so the command-line canary and the
deployed one cannot disagree; the calendar's run keys travel inside it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from phasegate.canary.evaluate import Settings
from phasegate.runtime import Expectations


def settings_from(expectations: Expectations) -> Settings:
    """Settings from generated expectations (canary/expected.json, checked by the runtime)."""
    data = expectations.data
    for key in ("canary", "calendar"):
        if key not in data:
            from phasegate.runtime import ExpectationsError

            raise ExpectationsError(f"{expectations.source} lacks {key!r}: it is not the "
                                    "canary's expected.json; run `phasegate generate`")
    return Settings(data, frozenset(data["calendar"]))


def settings_from_registry(registry: Any, shown: str, root: Path) -> Settings:
    """Settings for the command line: the canary JSON rendered now, with the calendar under root."""
    from phasegate.generation import read_inputs
    from phasegate.registry.generate import render_json

    text = render_json(registry, shown, read_inputs(registry, root))
    return settings_from(Expectations.from_data(json.loads(text), shown))
