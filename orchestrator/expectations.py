"""What a transition expects for a run key right now, from the generated module only.

The mode depends on the run key relative to *today in the registry's
timezone*, never the machine's; the clock is passed in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from orchestrator import expected_processors as generated


@dataclass(frozen=True)
class Expectation:
    transition: str
    run_key: dt.date
    mode: str | None
    expected: frozenset[str]
    required: frozenset[str]


def today(now: dt.datetime) -> dt.date:
    """Today's date in the registry's timezone (``now`` must be timezone-aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(ZoneInfo(generated.TIMEZONE)).date()


def expectation_for(transition: str, run_key: dt.date, now: dt.datetime) -> Expectation:
    """The mode, expected and required sets for ``transition`` and ``run_key`` at ``now``."""
    if transition not in generated.TRANSITIONS:
        known = ", ".join(sorted(generated.TRANSITIONS))
        raise KeyError(f"unknown transition {transition!r} (known: {known})")
    mode, expected, required = generated.expectations(transition, run_key, today(now))
    return Expectation(transition, run_key, mode, expected, required)


def canonical_name(reported: str) -> str | None:
    """The canonical processor name for any alias, or None when the registry lacks it."""
    return generated.canonical_name(reported)
