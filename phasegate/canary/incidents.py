"""What to tell whom: incidents open, repeat and resolve only on state changes. Pure.

An incident is one alerting check (``dedup_key`` = transition/run key/state)
from the run that first saw it until the run that no longer does. It alerts
when it opens, again every ``renotify_hours`` while open, and once when it
resolves: one noisy check cannot produce 48 alerts a day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from phasegate.canary.evaluate import StateCheck
from phasegate.runtime import as_time

NotificationKind = Literal["open", "renotify", "resolve"]


@dataclass(frozen=True)
class Notification:
    kind: NotificationKind
    transition: str
    run_key: str
    state: str
    dedup_key: str
    detail: str
    missing: tuple[Any, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "transition": self.transition, "run_key": self.run_key,
                "state": self.state, "dedup_key": self.dedup_key, "detail": self.detail,
                "missing": [m if isinstance(m, dict) else vars(m) for m in self.missing]}


@dataclass
class Plan:
    notifications: list[Notification] = field(default_factory=list)
    expire: list[str] = field(default_factory=list)  # dedup keys closed without a message


def incident_id(dedup_key: str) -> str:
    """A Firestore document id for a dedup key (no slashes)."""
    return dedup_key.replace("/", "__")


def incident_problem(data: Any) -> str | None:
    """Why an incident document cannot be used, or None (it is the canary's own, but checked)."""
    if not isinstance(data, Mapping):
        return "it is not a map"
    for key in ("dedup_key", "transition", "run_key", "state"):
        if not isinstance(data.get(key), str):
            return f"{key} is not text"
    if not isinstance(data.get("detail", ""), str):
        return "detail is not text"
    pending = data.get("pending")
    if pending is not None and not (isinstance(pending, Mapping) and all(
            isinstance(k, str) and v in ("open", "renotify", "resolve")
            for k, v in pending.items())):
        return "pending is not a map of channel -> open | renotify | resolve"
    if "last_notified_at" in data and data["last_notified_at"] is not None and as_time(
            data["last_notified_at"]) is None:
        return "last_notified_at is not a time"
    return None


def plan(open_incidents: Mapping[str, Mapping[str, Any]], checks: Iterable[StateCheck],
         now: dt.datetime, renotify_hours: float, window: Iterable[str],
         held: Iterable[str] = ()) -> Plan:
    """Notifications for this run, from the open incidents and the current checks.

    ``held``: dedup key prefixes (``transition/run_key/``, ``transition/``, or
    ``""`` for all) that this run could not evaluate: their incidents are
    neither resolved nor expired, since nobody knows whether they
    still hold.
    """
    result = Plan()
    held_prefixes = tuple(held)
    alerting = {check.dedup_key: check for check in checks if check.alerting}
    renotify = dt.timedelta(hours=renotify_hours)
    for key, check in sorted(alerting.items()):
        incident = open_incidents.get(key)
        if incident is None:
            result.notifications.append(_note("open", check))
            continue
        last = as_time(incident.get("last_notified_at"))
        if last is None or now - last >= renotify:
            result.notifications.append(_note("renotify", check))
    in_window = set(window)
    for key, incident in sorted(open_incidents.items()):
        if key in alerting or key.startswith(held_prefixes):
            continue
        if incident.get("run_key") not in in_window:
            result.expire.append(key)
            continue
        result.notifications.append(Notification(
            "resolve", incident["transition"], incident["run_key"], incident["state"], key,
            f"resolved: {incident['state']} no longer holds"))
    return result


def _note(kind: NotificationKind, check: StateCheck) -> Notification:
    return Notification(kind, check.transition, check.run_key, check.state, check.dedup_key,
                        check.detail, check.missing)
