"""Build the canary's settings: from the registry (command line) or expected.json (function).

Both go through the same generated JSON, so the command-line canary and the
deployed one cannot disagree; the calendar's run keys travel inside it.

:func:`check_settings` looks at them again at every run: a number that is not
finite or is absurd (``renotify_hours: .inf``), an invalid cron schedule or
timezone must not crash the canary. Each is a CANARY_ERROR naming it; the run
goes on with the default in its place, or without the transition it breaks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from phasegate.canary.evaluate import Settings, short
from phasegate.runtime import Expectations

MAX_LOOKBACK_DAYS = 366
MAX_HOURS = 100 * 366 * 24  # a century: beyond it a number is a mistake, not a setting
MAX_MINUTES = MAX_HOURS * 60
DEFAULTS: dict[str, Any] = {"lookback_days": 3, "renotify_hours": 6,
                            "missing_run_after_hours": 30, "schedule": "*/15 * * * *"}
FIX = "fix the registry and run `phasegate generate`"


def settings_from(expectations: Expectations) -> Settings:
    """Settings from generated expectations (canary/expected.json, checked by the runtime)."""
    data = expectations.data
    for key in ("canary", "calendar"):
        if key not in data:
            from phasegate.runtime import ExpectationsError

            raise ExpectationsError(f"{expectations.source} lacks {key!r}: it is not the "
                                    "canary's expected.json; run `phasegate generate`")
    return Settings(data, frozenset(data["calendar"]))


@dataclass
class CheckedSettings:
    """Settings a run can use, and what was wrong with the ones it was given."""

    settings: Settings
    problems: list[str] = field(default_factory=list)
    skipped: frozenset[str] = frozenset()  # transitions that cannot be evaluated
    usable: bool = True  # False: nothing can be evaluated (no timezone, no transitions)


def _number_problem(value: Any, unit: str, low: float, high: float, *,
                    above_low: bool = False, whole: bool = False) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"is {short(repr(value), 40)}, not a number of {unit}"
    if not math.isfinite(value):
        return f"is {value}, not a finite number of {unit}"
    if whole and value != int(value):
        return f"is {value}, not a whole number of {unit}"
    if value < low or (above_low and value == low) or value > high:
        lowest = f"above {low:g}" if above_low else f"{low:g}"
        return f"is {value:g}, outside {lowest} to {high:,g} {unit}"
    return None


def schedule_problem(schedule: Any) -> str | None:
    """Why a canary schedule cannot be used, or None."""
    from phasegate.registry.cron import longest_gap_minutes

    if not isinstance(schedule, str):
        return f"is {short(repr(schedule), 40)}, not a cron expression"
    try:
        longest_gap_minutes(schedule)
    except Exception as error:  # noqa: BLE001 - any failure: the schedule is unusable
        return f"{short(schedule, 60)!r} is not a valid cron expression ({short(error, 120)})"
    return None


def interval_minutes(settings: Settings) -> int:
    """The longest gap between two scheduled runs; ValueError when the schedule is invalid."""
    from phasegate.registry.cron import longest_gap_minutes

    schedule = settings.canary.get("schedule", DEFAULTS["schedule"])
    problem = schedule_problem(schedule)
    if problem:
        raise ValueError(f"canary.schedule {problem}")
    return longest_gap_minutes(schedule)


def check_settings(settings: Settings) -> CheckedSettings:
    """The settings with every unusable value replaced or set aside, and the problems found."""
    data = settings.expectations
    problems: list[str] = []
    canary_in = data.get("canary") if isinstance(data, Mapping) else None
    if not isinstance(canary_in, Mapping):
        problems.append(f"the canary settings are missing or malformed; {FIX}")
        canary_in = {}
    canary = dict(canary_in)
    limits = {"lookback_days": ("days", 0, MAX_LOOKBACK_DAYS, False, True),
              "renotify_hours": ("hours", 0, MAX_HOURS, True, False),
              "missing_run_after_hours": ("hours", 0, MAX_HOURS, False, False)}
    for key, (unit, low, high, above_low, whole) in limits.items():
        if key not in canary:
            continue
        problem = _number_problem(canary[key], unit, low, high, above_low=above_low,
                                  whole=whole)
        if problem:
            problems.append(f"canary.{key} {problem}; using {DEFAULTS[key]} until you "
                            f"{FIX}")
            canary[key] = DEFAULTS[key]
    early = _checked_early(canary.get("early"), problems)
    if early is not None:
        canary["early"] = early
    if "schedule" in canary:
        problem = schedule_problem(canary["schedule"])
        if problem:
            problems.append(f"canary.schedule {problem}; {FIX}")
    periods = canary.get("quiet_periods") or []
    good = [p for p in periods if isinstance(p, Mapping) and all(
        isinstance(p.get(k), str) for k in ("from", "to", "reason"))] if isinstance(
        periods, list | tuple) else []
    if not isinstance(periods, list | tuple) or len(good) != len(periods):
        problems.append(f"canary.quiet_periods holds malformed entries (ignored); {FIX}")
        canary["quiet_periods"] = good
    notify = canary.get("notify")
    if notify is not None and not isinstance(notify, list | tuple):
        problems.append(f"canary.notify is not a list: no channel can be used; {FIX}")
    usable = True
    zone = data.get("timezone") if isinstance(data, Mapping) else None
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(str(zone))
        if not isinstance(zone, str):
            raise ValueError(zone)
    except Exception:  # noqa: BLE001 - no timezone, no run keys
        problems.append(f"the timezone {short(repr(zone), 60)} is not a known IANA zone: no "
                        f"run key can be checked; {FIX}")
        usable = False
    transitions = data.get("transitions") if isinstance(data, Mapping) else None
    skipped: set[str] = set()
    if not isinstance(transitions, Mapping):
        problems.append(f"the transitions are missing or malformed: nothing can be checked; "
                        f"{FIX}")
        usable = False
    else:
        for name, spec in transitions.items():
            problem = _transition_problem(spec)
            if problem:
                problems.append(f"transition {short(name)}: {problem}; it is not checked "
                                f"until you {FIX}")
                skipped.add(name)
    expectations = dict(data) if isinstance(data, Mapping) else {}
    expectations["canary"] = canary
    return CheckedSettings(Settings(expectations, settings.calendar), problems,
                           frozenset(skipped), usable)


EARLY_LIMITS = {"silent_run_keys": (0, 60), "learn_days": (0, MAX_LOOKBACK_DAYS),
                "min_samples": (3, MAX_LOOKBACK_DAYS), "slack_minutes": (1, MAX_MINUTES)}


def _checked_early(early: Any, problems: list[str]) -> dict[str, Any] | None:
    """``canary.early`` with each unusable value replaced by its default (None: not given)."""
    from phasegate.canary.early import DEFAULTS as EARLY_DEFAULTS

    if early is None:
        return None
    if not isinstance(early, Mapping):
        problems.append(f"canary.early is not a map; using the defaults until you {FIX}")
        return dict(EARLY_DEFAULTS)
    checked = dict(EARLY_DEFAULTS)
    for key, value in early.items():
        if key not in EARLY_LIMITS:
            problems.append(f"canary.early.{short(key)} is not a setting (ignored); {FIX}")
            continue
        low, high = EARLY_LIMITS[key]
        problem = _number_problem(value, "minutes" if key == "slack_minutes" else key.split(
            "_")[-1], low, high, whole=key != "slack_minutes")
        if problem:
            problems.append(f"canary.early.{key} {problem}; using {EARLY_DEFAULTS[key]} until "
                            f"you {FIX}")
            continue
        checked[key] = value
    return checked


def _transition_problem(spec: Any) -> str | None:
    if not isinstance(spec, Mapping):
        return "its settings are not a map"
    if not isinstance(spec.get("collection"), str) or not isinstance(spec.get("modes"), Mapping):
        return "it lacks its collection or modes"
    for key in ("deadline_minutes", "grace_minutes"):
        problem = _number_problem(spec.get(key), "minutes", 0, MAX_MINUTES)
        if problem:
            return f"{key} {problem}"
    sets = [spec.get("expected"), *(m.get("expected") if isinstance(m, Mapping) else None
                                    for m in spec["modes"].values())]
    if not all(isinstance(names, list | tuple) and all(isinstance(n, str) for n in names)
               for names in sets):
        return "an expected set is not a list of names"
    if any(not isinstance(m, Mapping) or not isinstance(m.get("when"), str)
           for m in spec["modes"].values()):
        return "a mode is malformed"
    return None
