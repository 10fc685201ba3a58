"""Build the canary's settings: from the registry (command line) or expected.json (function).

Both go through the same generated JSON, so the command-line canary and the
deployed one cannot disagree; the calendar's run keys travel inside it.
"""

from __future__ import annotations

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

