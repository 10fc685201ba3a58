"""Mirror rows, their insert ids and the table schema: pure, no I/O.

A row's insert id is ``<event>/<transition>/<run_key>/<processor or
state>/<message id or time>`` (DESIGN.md, "BigQuery mirror"): a redelivery of
one message builds the same row with the same id, so BigQuery's best-effort
de-duplication drops it. The column ``at_ts`` is not called ``at``: that name
breaks bqemulator's SQL translation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, Literal

Event = Literal["completion", "firing", "incident_open", "incident_resolve"]
EVENTS: tuple[str, ...] = ("completion", "firing", "incident_open", "incident_resolve")
FIRED = "TRIGGERED"  # the state a firing row carries

# (name, type, mode, description): the table, in column order.
COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("event", "STRING", "REQUIRED", "completion | firing | incident_open | incident_resolve"),
    ("transition", "STRING", "REQUIRED", "the transition (registry name)"),
    ("run_key", "STRING", "REQUIRED", "the run key (a date, YYYY-MM-DD)"),
    ("processor", "STRING", "NULLABLE", "completion: the canonical processor name"),
    ("status", "STRING", "NULLABLE", "completion: the status it reported"),
    ("state", "STRING", "NULLABLE",
     "firing: TRIGGERED; incident: the canary state (LATE, STUCK, ...)"),
    ("reason", "STRING", "NULLABLE",
     "firing: all_complete | tier:<after> | deadline_partial | manual; incident: its detail"),
    ("at_ts", "TIMESTAMP", "REQUIRED", "when it was recorded, fired, opened or resolved"),
    ("detected_after_s", "FLOAT", "NULLABLE",
     "incident_open: seconds from when the state became detectable to the alert"),
    ("message_id", "STRING", "NULLABLE", "the Pub/Sub message id of the delivery"),
    ("trigger_id", "STRING", "NULLABLE", "firing: <transition>/<run_key>"),
    ("registry_digest", "STRING", "NULLABLE", "the registry digest of the writer"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(column[0] for column in COLUMNS)
MAX_REASON_CHARS = 1000


def schema_fields(header: str | None = None) -> list[dict[str, str]]:
    """The table schema as ``bq mk --table`` reads it (a JSON list of fields).

    ``header`` (where the artifact came from) is appended to the first
    field's description: a schema file holds no other place for it.
    """
    fields = [{"name": name, "type": kind, "mode": mode, "description": text}
              for name, kind, mode, text in COLUMNS]
    if header:
        fields[0]["description"] += f". {header}"
    return fields


def _iso(value: dt.datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("mirror times must be timezone-aware")
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def row(event: Event, transition: str, run_key: str, at: dt.datetime, *,
        processor: str | None = None, status: str | None = None, state: str | None = None,
        reason: str | None = None, detected_after_s: float | None = None,
        message_id: str | None = None, trigger_id: str | None = None,
        registry_digest: str | None = None) -> dict[str, Any]:
    """One row, JSON-ready (``at_ts`` as an ISO time in UTC), every column present."""
    if event not in EVENTS:
        raise ValueError(f"unknown mirror event {event!r}")
    return {
        "event": event, "transition": transition, "run_key": run_key,
        "processor": processor, "status": status, "state": state,
        "reason": None if reason is None else reason[:MAX_REASON_CHARS],
        "at_ts": _iso(at),
        "detected_after_s": None if detected_after_s is None else round(
            float(detected_after_s), 3),
        "message_id": message_id or None, "trigger_id": trigger_id,
        "registry_digest": registry_digest,
    }


def completion_row(transition: str, run_key: str, processor: str, status: str,
                   at: dt.datetime, message_id: str | None,
                   registry_digest: str | None) -> dict[str, Any]:
    return row("completion", transition, run_key, at, processor=processor, status=status,
               message_id=message_id, registry_digest=registry_digest)


def firing_row(transition: str, run_key: str, reason: str, at: dt.datetime,
               trigger_id: str, message_id: str | None,
               registry_digest: str | None) -> dict[str, Any]:
    return row("firing", transition, run_key, at, state=FIRED, reason=reason,
               trigger_id=trigger_id, message_id=message_id, registry_digest=registry_digest)


def incident_row(kind: Literal["open", "resolve"], transition: str, run_key: str, state: str,
                 at: dt.datetime, detail: str, detected_after_s: float | None,
                 registry_digest: str | None) -> dict[str, Any]:
    event: Event = "incident_open" if kind == "open" else "incident_resolve"
    return row(event, transition, run_key, at, state=state, reason=detail,
               detected_after_s=detected_after_s if kind == "open" else None,
               registry_digest=registry_digest)


def insert_id(data: Mapping[str, Any]) -> str:
    """``<event>/<transition>/<run_key>/<processor or state>/<message id or time>``; a
    firing is named by its time."""
    subject = data.get("processor") or data.get("state") or ""
    # a run key fires once: its time (``_triggered_at``) names it, so that a firing row
    # rebuilt from the document later carries the same id as the one first sent
    instance = (data.get("at_ts") if data["event"] == "firing" else
                data.get("message_id") or data.get("at_ts")) or ""
    return "/".join(str(part) for part in (data["event"], data["transition"], data["run_key"],
                                           subject, instance))


def deduplicated(rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Rows as BigQuery keeps them when every insert id arrives in its window: the first of
    each insert id. (bqemulator ignores insert ids; the tests hold the ids to this.)"""
    seen: set[str] = set()
    kept = []
    for item in rows:
        identity = insert_id(item)
        if identity not in seen:
            seen.add(identity)
            kept.append(item)
    return kept


def split_table(table: str) -> tuple[str, str, str]:
    """``project.dataset.table`` -> its three parts (a project may hold ``:`` or ``.``)."""
    project_and_dataset, _, name = table.rpartition(".")
    project, _, dataset = project_and_dataset.rpartition(".")
    if not project or not dataset or not name:
        raise ValueError(f"{table!r} is not project.dataset.table")
    return project, dataset, name
