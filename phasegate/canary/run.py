"""One canary run: read, evaluate, decide, claim, deliver, record. I/O injected.

Exit codes: 0 the run completed and nothing is alerting; 1 at least one
incident is open; 3 the canary could not do its job (Firestore unreadable, no
credentials, a notification undeliverable, settings it cannot use), which is
itself reported through every channel that still works.

Nothing a document, a setting or a channel holds may stop a run: a malformed
document is UNREADABLE (its run key only), an unusable setting is a
CANARY_ERROR (the default takes its place, or its transition waits), a broken
channel is a failed delivery; the heartbeat is written all the same.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TextIO

from phasegate.canary.channels import Budget, Channel, DeliveryFailed, channels_from, scrub, send
from phasegate.canary.evaluate import (
    Settings,
    StateCheck,
    evaluate,
    history_keys,
    history_of,
    run_keys,
)
from phasegate.canary.incidents import Notification, incident_id, incident_problem, plan
from phasegate.canary.settings import check_settings
from phasegate.runtime import printable

EXIT_OK, EXIT_ALERTING, EXIT_FAILED = 0, 1, 3
MAX_ERROR_DETAIL = 2000


@dataclass
class Delivery:
    notification: Notification
    channel: str
    delivered: bool
    error: str | None = None


@dataclass
class RunResult:
    now: dt.datetime
    checks: list[StateCheck] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def exit_code(self) -> int:
        if self.errors:
            return EXIT_FAILED
        return EXIT_ALERTING if any(c.alerting for c in self.checks) else EXIT_OK

    def as_json(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "dry_run": self.dry_run,
            "checks": [{
                "transition": c.transition, "run_key": c.run_key, "mode": c.mode,
                "state": c.state, "completed": list(c.completed),
                "missing": [{"name": m.name, "status": m.status,
                             "last_reported": m.last_reported, "this_run": m.this_run,
                             "early": m.early}
                            for m in c.missing],
                "alerting": c.alerting, "detail": c.detail,
            } for c in self.checks],
            "notifications": [{
                "kind": d.notification.kind, "transition": d.notification.transition,
                "run_key": d.notification.run_key, "state": d.notification.state,
                "dedup_key": d.notification.dedup_key, "channel": d.channel,
                "delivered": d.delivered, **({"error": d.error} if d.error else {}),
            } for d in self.deliveries],
            "errors": self.errors,
        }

    def as_text(self) -> str:
        """For a terminal: whatever a document holds is shown escaped, never obeyed."""
        header = f"canary run at {self.now.isoformat()}"
        if self.dry_run:
            header += " (dry run: nothing sent, nothing stored)"
        lines = [header]
        for c in self.checks:
            flag = "ALERT " if c.alerting else "      "
            lines.append(printable(f"{flag}{c.state:15s} {c.transition} {c.run_key} "
                                   f"[{c.mode or '-'}] {c.detail}"))
        for d in self.deliveries:
            status = "delivered" if d.delivered else f"NOT delivered ({d.error})"
            lines.append(printable(f"notify {d.notification.kind:8s} "
                                   f"{d.notification.dedup_key} -> {d.channel}: {status}"))
        lines += [printable(f"error: {e}") for e in self.errors]
        return "\n".join(lines) + "\n"


Heal = Callable[[str, str, dt.datetime], Any]  # transition, run key, now -> Outcome


def one_line(error: BaseException) -> str:
    """An exception as one short line (Google clients' messages span several)."""
    text = scrub(str(error))
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def run_once(store: Any, settings: Settings, now: dt.datetime, *, dry_run: bool = False,
             stream: TextIO | None = None, sleep: Callable[[float], None] | None = None,
             heal: Heal | None = None, budget: Budget | None = None,
             problems: Iterable[str] = (), mirror: Any | None = None) -> RunResult:
    """Evaluate every transition over the lookback window and notify on changes.

    ``problems``: what the caller already found wrong (reported as CANARY_ERROR).
    ``mirror``: a :class:`phasegate.mirror.sender.MirrorSender` for incident rows; by
    default one for the registry's ``mirror.bigquery.table``, when it has one.
    """
    sleep = sleep or time.sleep
    budget = budget or Budget()
    result = RunResult(now, dry_run=dry_run)
    checked = check_settings(settings)
    settings = checked.settings
    result.errors += [*problems, *checked.problems]
    expectations = settings.expectations
    pipeline = str(expectations.get("pipeline", ""))
    channels = channels_from(settings.canary.get("notify"))
    transitions = sorted(t for t in expectations.get("transitions", {})
                         if t not in checked.skipped) if checked.usable else []
    keys = run_keys(now, settings) if checked.usable else []
    read = history_keys(now, settings) if checked.usable else []
    held = [f"{t}/" for t in checked.skipped] if checked.usable else [""]
    try:
        documents = store.read_documents(
            (expectations["transitions"][t]["collection"], k) for t in transitions for k in read
        ) if transitions and keys else {}
        incidents = store.read_incidents()
    except Exception as error:  # noqa: BLE001 - fail closed: this is itself an alert
        result.errors.append(f"the canary could not read Firestore: {one_line(error)}")
        if not dry_run:
            _report_errors(channels, set(), pipeline, result, stream, sleep, budget)
            # the canary ran: its heartbeat line (what the absence alert counts) still says so
            _heartbeat_line(stream, {"outcome": "error", "checks": 0, "alerting": 0,
                                     "errors": result.errors}, pipeline)
        result.calls = dict(store.calls)
        return result
    incidents = _usable_incidents(incidents, result)
    for transition in transitions:
        collection = expectations["transitions"][transition]["collection"]
        history = history_of(transition, {k: documents.get((collection, k)) for k in read},
                             settings)
        for key in keys:
            checks = evaluate(transition, key, documents.get((collection, key)), now, settings,
                              history)
            result.checks.extend(checks)
            if any(c.state == "UNREADABLE" for c in checks):
                held.append(f"{transition}/{key}/")
    if not dry_run:
        _fire_due(result, store, now, settings, heal, stream)
    open_incidents = {key: data for key, (data, _) in incidents.items() if data.get("open")}
    decided = plan(open_incidents, result.checks, now,
                   float(settings.canary.get("renotify_hours", 6)), keys, held)
    if dry_run:
        result.deliveries = [Delivery(n, c.name, False, "dry run") for n in
                             decided.notifications for c in channels]
        result.calls = dict(store.calls)
        return result
    claimed: list[Notification] = []
    detectable = {c.dedup_key: c.detectable for c in result.checks if c.detectable}
    updates, failed = _claim_and_deliver(store, decided.notifications, incidents, channels,
                                         pipeline, now, result, stream, sleep, budget, claimed,
                                         detectable)
    _mirror_incidents(mirror, claimed, settings, now, stream, detectable)
    for key in decided.expire:
        updates[incident_id(key)] = {"open": False, "needs_attention": False,
                                     "closed_at": now, "closed_reason": "left the lookback"}
    if result.errors:
        _report_errors(channels, failed, pipeline, result, stream, sleep, budget)
    heartbeat = {"at": now, "outcome": "error" if result.errors else (
        "alerting" if any(c.alerting for c in result.checks) else "ok"),
        "checks": len(result.checks), "alerting": sum(c.alerting for c in result.checks),
        "errors": result.errors}
    try:
        store.finish(updates, heartbeat)
    except Exception as error:  # noqa: BLE001 - reported, and the exit code says so
        result.errors.append(f"the canary could not record its run: {one_line(error)}")
    _heartbeat_line(stream, heartbeat, pipeline)
    result.calls = dict(store.calls)
    return result


def _heartbeat_line(stream: TextIO | None, heartbeat: Mapping[str, Any], pipeline: str) -> None:
    """The CANARY_HEARTBEAT log line the absence alert counts: one per run that ran."""
    (stream or sys.stdout).write(json.dumps({
        "severity": "INFO", "message": f"CANARY_HEARTBEAT {heartbeat['outcome']}",
        "heartbeat": {k: v for k, v in heartbeat.items() if k != "at"},
        "logging.googleapis.com/labels": {"phasegate_checkpoint": "CANARY_HEARTBEAT",
                                          "phasegate_pipeline": pipeline}},
        default=str) + "\n")


def report_failure(settings: Settings, now: dt.datetime, message: str, *,
                   stream: TextIO | None = None, sleep: Callable[[float], None] | None = None,
                   budget: Budget | None = None, dry_run: bool = False) -> RunResult:
    """The canary could not start (no credentials, no client): say so through every channel."""
    result = RunResult(now, dry_run=dry_run, errors=[message])
    checked = check_settings(settings)
    result.errors += checked.problems
    channels = channels_from(checked.settings.canary.get("notify"))
    if not dry_run:
        _report_errors(channels, set(), str(checked.settings.expectations.get("pipeline", "")),
                       result, stream, sleep or time.sleep, budget or Budget())
    return result


def _usable_incidents(incidents: Mapping[str, tuple[Any, Any]], result: RunResult,
                      ) -> dict[str, tuple[dict[str, Any], Any]]:
    """The incidents this run can act on; one it cannot read is reported and left alone."""
    usable: dict[str, tuple[dict[str, Any], Any]] = {}
    for key, (data, seen) in incidents.items():
        problem = incident_problem(data)
        if problem is None and data["dedup_key"] != key:
            problem = "its dedup_key does not match"
        if problem:
            result.errors.append(f"incident {printable(str(key))[:120]!r} cannot be read "
                                 f"({problem}); it is left as it is")
            continue
        usable[key] = (dict(data), seen)
    return usable


def _report_errors(channels: list[Channel], failed: set[str], pipeline: str,
                   result: RunResult, stream: TextIO | None, sleep: Callable[[float], None],
                   budget: Budget) -> None:
    """One CANARY_ERROR listing this run's errors, through every channel that did not fail."""
    detail = "; ".join(result.errors)
    if len(detail) > MAX_ERROR_DETAIL:
        detail = detail[: MAX_ERROR_DETAIL - 1] + "…"
    note = Notification("open", "*", "*", "CANARY_ERROR", "canary/run/CANARY_ERROR", detail)
    _deliver([c for c in channels if c.name not in failed], [note], pipeline, result, stream,
             sleep, budget)


def _fire_due(result: RunResult, store: Any, now: dt.datetime, settings: Settings,
              heal: Heal | None, stream: TextIO | None) -> None:
    """Fire run keys whose policy holds with no new message: a tier came due, or auto_heal.

    Through the orchestrator's own trigger path (its marker makes it happen
    exactly once, however many canary runs and deliveries try).
    """
    from phasegate.orchestrator.core import TriggerPublishFailed

    for index, check in enumerate(result.checks):
        if check.due is None:
            continue
        if heal is None:
            heal = _orchestrator_heal(store, settings, stream)
        try:
            outcome = heal(check.transition, check.run_key, now)
        except TriggerPublishFailed:
            continue  # the target failed again: the firing stays pending, STUCK says why
        except Exception as error:  # noqa: BLE001 - the check still alerts when it is due to
            result.errors.append(f"firing {check.transition}/{check.run_key} ({check.due}) "
                                 f"failed: {one_line(error)}")
            continue
        if outcome.triggered_now or "ALREADY_TRIGGERED" in outcome.checkpoints:
            result.checks[index] = replace(
                check, state="TRIGGERED", alerting=False, due=None,
                detail=f"fired by the canary ({check.due}); {check.detail}")


def _orchestrator_heal(store: Any, settings: Settings, stream: TextIO | None) -> Heal:
    """Fire through the orchestrator, its checkpoint lines where the canary's own go.

    Its clock is the real one (claims, leases and stamps); ``now`` only decides.
    """
    from phasegate.orchestrator.core import Orchestrator
    from phasegate.orchestrator.logs import CheckpointLog
    from phasegate.runtime import Expectations

    expectations = Expectations(settings.expectations, "canary/expected.json")
    log = CheckpointLog(stream=stream)  # None: stdout, as in the function

    def heal(transition: str, run_key: str, now: dt.datetime) -> Any:
        orchestrator = Orchestrator(transition, store.client, expectations=expectations,
                                    log=log)
        return orchestrator.fire_due(dt.date.fromisoformat(run_key), now)

    return heal


def _claim_and_deliver(store: Any, notifications: list[Notification],
                       incidents: Mapping[str, tuple[dict[str, Any], Any]],
                       channels: list[Channel], pipeline: str, now: dt.datetime,
                       result: RunResult, stream: TextIO | None,
                       sleep: Callable[[float], None], budget: Budget,
                       claimed: list[Notification] | None = None,
                       detectable: Mapping[str, dt.datetime] | None = None,
                       ) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Claim each changed incident, deliver what this run owns, keep what failed.

    Returns the incident updates and the names of the channels that failed.
    """
    owned: list[Notification] = []
    pending: dict[str, dict[str, str]] = {}
    updates: dict[str, dict[str, Any]] = {}
    names = [c.name for c in channels]
    for note in notifications:
        existing = incidents.get(note.dedup_key)
        fields: dict[str, Any] = {
            "dedup_key": note.dedup_key, "transition": note.transition,
            "run_key": note.run_key, "state": note.state, "detail": note.detail,
            "last_notified_at": now, "needs_attention": True,
            "pending": {name: note.kind for name in names},
        }
        if note.kind == "open":
            fields.update(open=True, opened_at=now, notify_count=1)
            since = (detectable or {}).get(note.dedup_key)
            if since is not None:  # when the state started to hold: its detection time
                fields.update(detectable_at=since)
        elif note.kind == "resolve":
            fields.update(open=False, resolved_at=now)
        seen = existing[1] if existing and note.kind != "open" else None
        if store.claim(incident_id(note.dedup_key), fields, seen):
            owned.append(note)
            if claimed is not None and note.kind in ("open", "resolve"):
                claimed.append(note)
            pending[note.dedup_key] = dict(fields["pending"])
    # deliveries that failed on an earlier run: retried once more (claimed the same way);
    # a channel that is no longer configured is owed nothing
    for key, (data, seen) in incidents.items():
        if key in pending or not data.get("pending"):
            continue
        if store.claim(incident_id(key), {"retry_claimed_at": now}, seen):
            pending[key] = {}
            for channel_name, kind in data["pending"].items():
                if channel_name not in names:
                    continue
                note = Notification(kind, data["transition"], data["run_key"], data["state"],
                                    key, data.get("detail", ""))
                pending[key][channel_name] = kind
                if note not in owned:
                    owned.append(note)
    by_channel = {c.name: c for c in channels}
    failed: set[str] = set()
    for channel_name in names:
        batch = [n for n in owned if pending.get(n.dedup_key, {}).get(channel_name) == n.kind]
        if not batch:
            continue
        error = _send(by_channel[channel_name], batch, pipeline, stream, sleep, budget)
        if error is not None:
            failed.add(channel_name)
            result.errors.append(f"{channel_name} delivery failed: {error} (kept; retried on "
                                 "the next run)")
            result.deliveries += [Delivery(n, channel_name, False, error) for n in batch]
            continue
        result.deliveries += [Delivery(n, channel_name, True) for n in batch]
        for note in batch:
            pending[note.dedup_key].pop(channel_name, None)
    for key, remaining in pending.items():
        data = incidents.get(key, ({}, None))[0]
        is_open = next((n.kind != "resolve" for n in owned if n.dedup_key == key),
                       bool(data.get("open")))
        updates[incident_id(key)] = {"pending": remaining,
                                     "needs_attention": is_open or bool(remaining)}
    return updates, failed


def _mirror_incidents(mirror: Any | None, notes: list[Notification],
                      settings: Settings, now: dt.datetime, stream: TextIO | None,
                      detectable: Mapping[str, dt.datetime]) -> None:
    """One BigQuery row per incident this run opened or resolved (``mirror.bigquery``), the
    opening with its detection time: from when its state started to hold (the deadline,
    the grace, an early rule, the calendar's hours) to now. A failure is a MIRROR_FAILED
    line, never an error."""
    expectations = settings.expectations
    configured: Any = expectations.get("mirror")
    if not notes or (mirror is None and not configured):
        return
    try:
        from phasegate.mirror.rows import incident_row
        from phasegate.mirror.sender import MirrorSender

        sender = mirror or MirrorSender(str(configured["bigquery"]["table"]))
        rows = []
        for note in notes:
            since = detectable.get(note.dedup_key) if note.kind == "open" else None
            after = max(0.0, (now - since).total_seconds()) if since is not None else None
            rows.append(incident_row("open" if note.kind == "open" else "resolve",
                                     note.transition, note.run_key, note.state, now,
                                     note.detail, after,
                                     str(expectations.get("registry_digest") or "") or None))
        reason = sender.send(rows)
    except Exception as error:  # noqa: BLE001 - the mirror never breaks a canary run
        reason = one_line(error)
    if reason is not None:
        (stream or sys.stdout).write(json.dumps({
            "severity": "WARNING",
            "message": f"MIRROR_FAILED: {len(notes)} incident row(s) not mirrored to BigQuery: "
                       f"{scrub(reason)}",
            "logging.googleapis.com/labels": {"phasegate_checkpoint": "MIRROR_FAILED",
                                              "phasegate_pipeline": str(
                                                  expectations.get("pipeline", ""))}},
            default=str) + "\n")


def _send(channel: Channel, notes: list[Notification], pipeline: str, stream: TextIO | None,
          sleep: Callable[[float], None], budget: Budget) -> str | None:
    """Deliver; the error as a line that is safe to show and send elsewhere, or None."""
    try:
        send(channel, notes, pipeline, stream, sleep, budget)
    except DeliveryFailed as error:
        return scrub(str(error))
    except Exception as error:  # noqa: BLE001 - a channel never breaks the run
        return type(error).__name__
    return None


def _deliver(channels: list[Channel], notes: list[Notification], pipeline: str,
             result: RunResult, stream: TextIO | None,
             sleep: Callable[[float], None], budget: Budget) -> None:
    for channel in channels:
        error = _send(channel, notes, pipeline, stream, sleep, budget)
        result.deliveries += [Delivery(n, channel.name, error is None, error) for n in notes]
