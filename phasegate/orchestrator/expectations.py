"""What a transition expects for a run key right now, from the generated module only.

The mode depends on the run key relative to *today in the registry's
timezone*, never the machine's; the clock is passed in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import ModuleType
from zoneinfo import ZoneInfo

from phasegate.orchestrator import expected_processors as generated


@dataclass(frozen=True)
class Expectation:
    transition: str
    run_key: dt.date
    mode: str | None
    expected: frozenset[str]
    required: frozenset[str]


def today(now: dt.datetime, module: ModuleType = generated) -> dt.date:
    """Today's date in the registry's timezone (``now`` must be timezone-aware)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(ZoneInfo(module.TIMEZONE)).date()


def expectation_for(transition: str, run_key: dt.date, now: dt.datetime,
                    module: ModuleType = generated) -> Expectation:
    """The mode, expected and required sets for ``transition`` and ``run_key`` at ``now``.

    ``module`` is the generated expectations module (another registry's, in a
    scenario); by default the one deployed with the orchestrator.
    """
    if transition not in module.TRANSITIONS:
        known = ", ".join(sorted(module.TRANSITIONS))
        raise KeyError(f"unknown transition {transition!r} (known: {known})")
    mode, expected, required = module.expectations(transition, run_key, today(now, module))
    return Expectation(transition, run_key, mode, expected, required)


def canonical_name(reported: str, module: ModuleType = generated) -> str | None:
    """The canonical processor name for any alias, or None when the registry lacks it."""
    result: str | None = module.canonical_name(reported)
    return result
