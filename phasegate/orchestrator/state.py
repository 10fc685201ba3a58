"""What a completion document says: pure functions over its fields.

Completion is set containment (expected is a subset of completed), never a
count of fields; names the registry does not know are never counted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from phasegate.runtime import COMPLETING, as_time


@dataclass(frozen=True)
class Evaluation:
    completed: frozenset[str]
    missing: tuple[str, ...]  # sorted
    complete: bool
    triggered: bool
    first_completion_at: Any | None  # as stored, or None
    earliest_completion: dt.datetime | None  # from the entries, for a missing first time


def entry_completes(entry: Any) -> bool:
    return isinstance(entry, Mapping) and entry.get("status") in COMPLETING


def completion_state(document: Mapping[str, Any] | None, expected: frozenset[str],
             known: Mapping[str, Any]) -> Evaluation:
    """Which expected processors have completed, and whether the transition may fire.

    ``known`` holds the registry's processors: any other key never counts.
    """
    fields = document or {}
    completed = frozenset(
        name for name, entry in fields.items()
        if not name.startswith("_") and name in known and entry_completes(entry)
    )
    missing = tuple(sorted(expected - completed))
    # the deadline clock starts at an *expected* completion: never an unknown, disabled or
    # out-of-scope one
    times = [as_time(e.get("completed_at")) for n, e in fields.items()
             if n in completed and n in expected and isinstance(e, Mapping)]
    aware = [t for t in times if t is not None]
    return Evaluation(
        completed=completed,
        missing=missing,
        complete=not missing and bool(expected),
        triggered=bool(fields.get("_triggered")),
        first_completion_at=fields.get("_first_completion_at"),
        earliest_completion=min(aware) if aware else None,
    )
