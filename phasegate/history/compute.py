"""History per transition, from mirror rows or from Firestore documents: pure.

Firing latency is the time from a run key's first expected completion to its
firing (p50, p90 and max by nearest rank: every value shown is one that
happened). Days late and days stuck count run keys with a LATE or STUCK
incident; each incident's detection time is from the moment its state became
detectable (:mod:`phasegate.history.detection`) to the alert.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from phasegate.history.detection import detected_after, first_completion
from phasegate.runtime import COMPLETING, as_time


@dataclass(frozen=True)
class Incident:
    transition: str
    run_key: str
    state: str
    opened_at: dt.datetime | None
    resolved_at: dt.datetime | None
    detected_after_s: float | None


@dataclass(frozen=True)
class RunKey:
    run_key: str
    first_completion: dt.datetime | None
    fired_at: dt.datetime | None
    reason: str | None

    @property
    def latency_s(self) -> float | None:
        if self.first_completion is None or self.fired_at is None:
            return None
        return max(0.0, (self.fired_at - self.first_completion).total_seconds())


@dataclass
class TransitionHistory:
    transition: str
    run_keys: list[RunKey] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)

    @property
    def latencies(self) -> list[float]:
        return sorted(v for v in (r.latency_s for r in self.run_keys) if v is not None)

    def days_with(self, state: str) -> list[str]:
        return sorted({i.run_key for i in self.incidents if i.state == state})

    @property
    def detections(self) -> list[float]:
        return sorted(i.detected_after_s for i in self.incidents
                      if i.detected_after_s is not None)


@dataclass
class History:
    source: str  # bigquery | firestore
    first_day: str
    last_day: str
    transitions: list[TransitionHistory]


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest rank: the smallest value with at least ``p`` percent at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def window(now: dt.datetime, zone: str, days: int) -> tuple[str, str]:
    """The last ``days`` run keys through today (the registry's timezone), as ISO dates."""
    from zoneinfo import ZoneInfo

    today = now.astimezone(ZoneInfo(zone)).date()
    return (today - dt.timedelta(days=days - 1)).isoformat(), today.isoformat()


def _expected_union(spec: Mapping[str, Any]) -> frozenset[str]:
    names = set(spec.get("expected") or ())
    for mode in (spec.get("modes") or {}).values():
        names |= set(mode.get("expected") or ())
    return frozenset(names)


def from_rows(rows: Iterable[Mapping[str, Any]], expectations: Mapping[str, Any],
              first_day: str, last_day: str) -> History:
    """From mirror rows (de-duplicated here too: the first row of each insert id)."""
    from phasegate.mirror.rows import insert_id

    specs = expectations["transitions"]
    result = {name: TransitionHistory(name) for name in sorted(specs)}
    firsts: dict[tuple[str, str], dt.datetime] = {}
    fired: dict[tuple[str, str], tuple[dt.datetime, str | None]] = {}
    opened: dict[tuple[str, str, str], list[tuple[dt.datetime, float | None]]] = {}
    resolved: dict[tuple[str, str, str], list[dt.datetime]] = {}
    seen: set[str] = set()
    for row in rows:
        transition, run_key = str(row.get("transition")), str(row.get("run_key"))
        if transition not in specs or not first_day <= run_key <= last_day:
            continue
        identity = insert_id({**row, "at_ts": _text_time(row.get("at_ts"))})
        if identity in seen:
            continue
        seen.add(identity)
        at = as_time(row.get("at_ts"))
        if at is None:
            continue
        key = (transition, run_key)
        event = row.get("event")
        if event == "completion":
            if row.get("status") in COMPLETING and row.get("processor") in _expected_union(
                    specs[transition]) and (key not in firsts or at < firsts[key]):
                firsts[key] = at
        elif event == "firing":
            if key not in fired or at < fired[key][0]:
                fired[key] = (at, row.get("reason"))
        elif event == "incident_open":
            opened.setdefault((*key, str(row.get("state"))), []).append(
                (at, _seconds(row.get("detected_after_s"))))
        elif event == "incident_resolve":
            resolved.setdefault((*key, str(row.get("state"))), []).append(at)
    for key in sorted(set(firsts) | set(fired)):
        at_reason = fired.get(key)
        result[key[0]].run_keys.append(RunKey(key[1], firsts.get(key),
                                              at_reason[0] if at_reason else None,
                                              at_reason[1] if at_reason else None))
    for (transition, run_key, state), openings in sorted(opened.items()):
        closings = sorted(resolved.get((transition, run_key, state), []))
        for at, after in sorted(openings, key=lambda item: item[0]):
            closed = next((c for c in closings if c >= at), None)
            result[transition].incidents.append(Incident(transition, run_key, state, at, closed,
                                                         after))
    return History("bigquery", first_day, last_day, list(result.values()))


def _text_time(value: Any) -> Any:
    when = as_time(value) if not isinstance(value, str) else None
    if when is not None:
        return when.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return value


def from_firestore(documents: Mapping[tuple[str, str], Mapping[str, Any] | None],
                   incidents: Iterable[Mapping[str, Any]], expectations: Mapping[str, Any],
                   first_day: str, last_day: str, missing_run_after_hours: float = 30,
                   ) -> History:
    """From the completion documents ((collection, run key) -> document) and the canary's
    incidents (``phasegate_incidents``)."""
    specs = expectations["transitions"]
    aliases = expectations["aliases"]
    zone = str(expectations["timezone"])
    result = {name: TransitionHistory(name) for name in sorted(specs)}
    by_transition: dict[str, dict[str, Mapping[str, Any]]] = {}
    for name, spec in sorted(specs.items()):
        docs = by_transition.setdefault(name, {})
        for (collection, run_key), document in sorted(documents.items()):
            if collection != spec["collection"] or not isinstance(document, Mapping) or not (
                    first_day <= run_key <= last_day):
                continue
            docs[run_key] = document
            fired_at = as_time(document.get("_triggered_at")) if document.get(
                "_triggered") else None
            reason = document.get("_trigger_reason")
            result[name].run_keys.append(RunKey(
                run_key, first_completion(document, spec, aliases), fired_at,
                reason if isinstance(reason, str) and fired_at else None))
    for data in incidents:
        transition = str(data.get("transition"))
        key: Any = data.get("run_key")
        state: Any = data.get("state")
        if transition not in result or not isinstance(key, str) or not isinstance(
                state, str) or not first_day <= key <= last_day:
            continue
        run_key = str(key)
        opened = as_time(data.get("opened_at"))
        since = as_time(data.get("detectable_at"))  # recorded by the canary when it opened
        after = None
        if opened is not None and since is not None:
            after = max(0.0, (opened - since).total_seconds())
        elif opened is not None:  # an incident opened before the canary recorded it
            after = detected_after(state, run_key, by_transition[transition].get(run_key),
                                   specs[transition], aliases, zone, opened,
                                   missing_run_after_hours)
        result[transition].incidents.append(Incident(
            transition, run_key, state, opened, as_time(data.get("resolved_at")), after))
    for history in result.values():
        history.incidents.sort(key=lambda i: (i.run_key, i.state, i.opened_at or dt.datetime.min
                                              .replace(tzinfo=dt.UTC)))
    return History("firestore", first_day, last_day, list(result.values()))


def _seconds(value: Any) -> float | None:
    """A row's detection time: a finite, non-negative number of seconds, else unknown (a
    table edited by hand may hold anything)."""
    import math

    if isinstance(value, bool):
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None
