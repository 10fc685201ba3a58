"""When a canary state became detectable, from the run key's document alone: pure.

For incidents the canary opened before it recorded ``detectable_at`` (it
does now, from the evaluation itself). LATE: the first expected completion
plus the deadline; STUCK: the last expected completion plus the grace;
MISSING_RUN: the run key's midnight (in the registry's timezone) plus
``missing_run_after_hours``. Any other state, or a LATE that an early rule
raised before the deadline: unknown (None).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from phasegate.canary.early import completions
from phasegate.runtime import as_time


def completion_times(document: Mapping[str, Any], aliases: Mapping[str, str],
                     ) -> dict[str, dt.datetime]:
    """Canonical processor -> when it completed (as the canary reads it), where known."""
    return {name: when for name, when in completions(document, aliases).items()
            if when is not None}


def expected_of(document: Mapping[str, Any], spec: Mapping[str, Any]) -> frozenset[str]:
    """What the orchestrator expected when it wrote (``_expected``), else the transition's."""
    written = document.get("_expected")
    if isinstance(written, list | tuple) and all(isinstance(n, str) for n in written):
        return frozenset(written)
    return frozenset(spec.get("expected") or ())


def first_completion(document: Mapping[str, Any], spec: Mapping[str, Any],
                     aliases: Mapping[str, str]) -> dt.datetime | None:
    """``_first_completion_at``, else the earliest expected completion."""
    first = as_time(document.get("_first_completion_at"))
    if first is not None:
        return first
    expected = expected_of(document, spec)
    times = [t for name, t in completion_times(document, aliases).items() if name in expected]
    return min(times) if times else None


def detectable_at(state: str, run_key: str, document: Mapping[str, Any] | None,
                  spec: Mapping[str, Any], aliases: Mapping[str, str], zone: str,
                  missing_run_after_hours: float = 30) -> dt.datetime | None:
    if state == "MISSING_RUN":
        day = dt.date.fromisoformat(run_key)
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(zone))
        return midnight.astimezone(dt.UTC) + dt.timedelta(hours=missing_run_after_hours)
    if document is None:
        return None
    if state == "LATE":
        first = first_completion(document, spec, aliases)
        if first is None:
            return None
        return first + dt.timedelta(minutes=int(spec["deadline_minutes"]))
    if state == "STUCK":
        expected = expected_of(document, spec)
        times = [t for name, t in completion_times(document, aliases).items()
                 if name in expected]
        if not times:
            return None
        return max(times) + dt.timedelta(minutes=int(spec["grace_minutes"]))
    return None


def detected_after(state: str, run_key: str, document: Mapping[str, Any] | None,
                   spec: Mapping[str, Any], aliases: Mapping[str, str], zone: str,
                   opened: dt.datetime, missing_run_after_hours: float = 30) -> float | None:
    """Seconds from detectable to ``opened``; None when unknown or opened before it (early)."""
    since = detectable_at(state, run_key, document, spec, aliases, zone,
                          missing_run_after_hours)
    if since is None or opened < since:
        return None
    return (opened.astimezone(dt.UTC) - since.astimezone(dt.UTC)).total_seconds()
