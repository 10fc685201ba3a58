"""Record a completion and fire the transition exactly once: the orchestrator's logic.

Callable from Python without a CloudEvent (:meth:`Orchestrator.handle`), with
Firestore, Pub/Sub publishing, the clock and the log injected. Per ordinary
completion it makes three Firestore calls: read (is it a duplicate?), a blind
merge write of the processor's entry, and a strongly consistent read to
decide. No read-modify-write transaction is involved anywhere, so twenty
processors completing in the same second all get recorded.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from phasegate.orchestrator.logs import CheckpointLog
from phasegate.orchestrator.messages import Completion, Rejected, decode_push, parse_completion
from phasegate.orchestrator.state import Evaluation, entry_completes, evaluate
from phasegate.orchestrator.store import CompletionStore
from phasegate.runtime import Expectations, processor_status

Clock = Callable[[], dt.datetime]
Publish = Callable[[str, bytes, dict[str, str]], str]  # topic id, data, attributes -> id
TRIGGER_LEASE = dt.timedelta(minutes=2)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class TriggerPublishFailed(Exception):
    """The trigger could not be published; raised so that Pub/Sub redelivers."""


@dataclass
class Outcome:
    """What one delivery did, for callers and tests."""

    checkpoint: str
    run_key: str | None = None
    processor: str | None = None
    completed: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    triggered_now: bool = False
    published_id: str | None = None
    checkpoints: list[str] = field(default_factory=list)


class Orchestrator:
    """One transition's orchestrator (the Cloud Function serves one transition)."""

    def __init__(self, transition: str, firestore_client: Any, *, expectations: Expectations,
                 publish: Publish | None = None, clock: Clock = utc_now,
                 log: CheckpointLog | None = None, project: str | None = None,
                 timeout: float = 30.0, lease: dt.timedelta = TRIGGER_LEASE) -> None:
        self.expectations = expectations
        self.transition = transition
        self.spec = expectations.transition(transition)  # an unknown name fails here
        self.store = CompletionStore(firestore_client, self.spec["collection"], timeout,
                                     pipeline=str(expectations.data["pipeline"]))
        self.publish = publish
        self.clock = clock
        self.log = log or CheckpointLog(project=project)
        self.project = project
        self.lease = lease

    # -- entry points -------------------------------------------------------

    def handle_push(self, event_data: Any) -> Outcome:
        """A Pub/Sub push body: malformed messages are stored and acknowledged."""
        try:
            envelope = decode_push(event_data)
        except Rejected as rejected:
            return self.reject(rejected, rejected.message_id, rejected.subscription)
        try:
            completion = parse_completion(envelope.data, envelope.message_id)
        except Rejected as rejected:
            return self.reject(rejected, envelope.message_id, envelope.subscription)
        return self.handle(completion)

    def handle(self, completion: Completion) -> Outcome:
        """Record one completion and fire the transition if it is now complete."""
        now = self.clock()
        run_key = completion.run_key.isoformat()
        outcome = Outcome("RECEIVED", run_key, completion.processor_name)
        expectation = self.expectations.expectation(self.transition, completion.run_key, now)
        self._log(outcome, "RECEIVED", f"{completion.processor_name} {completion.status}",
                  completion, processor=completion.processor_name, status=completion.status,
                  message_id=completion.message_id, mode=expectation.mode)
        meta = {
            "_expected": sorted(expectation.expected),
            "_mode": expectation.mode,
            "_registry_digest": self.expectations.registry_digest,
            "_transition_digest": self.spec["digest"],
        }
        canonical = self.expectations.canonical_name(completion.processor_name)
        if canonical is None:
            self.store.merge(run_key, {"_unknown": {completion.processor_name: _entry(
                completion, now)}, **meta})
            close = difflib.get_close_matches(completion.processor_name,
                                              list(self.expectations.aliases), 1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            self._log(outcome, "UNKNOWN_PROCESSOR",
                      f"{completion.processor_name!r} is not in the registry; recorded under "
                      f"_unknown and not counted{hint}", completion, severity="WARNING",
                      processor=completion.processor_name)
            return outcome
        outcome.processor = canonical
        before = self.store.read(run_key)
        existing = (before.data or {}).get(canonical)
        if existing is not None and _is_duplicate(existing, completion):
            self._log(outcome, "DUPLICATE",
                      f"{canonical} already recorded as {existing.get('status')}; not counted "
                      "twice, re-evaluating", completion, processor=canonical)
            state = before
        else:
            fields: dict[str, Any] = {canonical: _entry(completion, now), **meta}
            if completion.completes:
                fields["_last_completion_at"] = now
            self.store.merge(run_key, fields)
            self._log(outcome, "RECORDED", f"{canonical} {completion.status} (received as "
                      f"{completion.processor_name})", completion, processor=canonical,
                      status=completion.status)
            state = self.store.read(run_key)
        result = evaluate(state.data, expectation.expected, self.expectations.processors)
        outcome.completed = tuple(sorted(result.completed & expectation.expected))
        outcome.missing = result.missing
        if result.first_completion_at is None and result.earliest_completion is not None:
            self.store.set_first_completion(run_key, result.earliest_completion,
                                            state.update_time)
        if result.triggered:
            self._log(outcome, "ALREADY_TRIGGERED", "the transition has already fired",
                      completion)
        elif result.complete:
            self._trigger(outcome, completion, result, now)
        else:
            expected_count = len(expectation.expected)
            processors = self.expectations.processors
            missing = [f"{name}: {processor_status(name, processors)}" for name in result.missing]
            self._log(outcome, "WAITING",
                      f"completed {len(outcome.completed)}/{expected_count}; missing "
                      f"{', '.join(missing)}", completion,
                      completed_count=len(outcome.completed), expected_count=expected_count,
                      missing=missing)
        return outcome

    def reject(self, rejected: Rejected, message_id: str | None,
               subscription: str | None) -> Outcome:
        """Store a malformed message with its reason; acknowledged, never redelivered."""
        now = self.clock()
        raw = rejected.raw
        record: dict[str, Any] = {
            "received_at": now,
            "reason": rejected.reason,
            "transition": self.transition,
            "message_id": message_id,
            "subscription": subscription,
        }
        if isinstance(raw, bytes):
            try:
                record["raw"] = raw[:100_000].decode("utf-8")
            except UnicodeDecodeError:
                import base64

                record["raw_base64"] = base64.b64encode(raw[:100_000]).decode("ascii")
        elif raw is not None:
            record["raw"] = str(raw)[:100_000]
        self.store.record_rejection(message_id, record)
        outcome = Outcome("REJECTED")
        self._log(outcome, "REJECTED", rejected.reason, None, severity="ERROR",
                  message_id=message_id)
        return outcome

    # -- the trigger ----------------------------------------------------------

    def trigger_partial(self, run_key: dt.date, now: dt.datetime | None = None) -> Outcome:
        """Fire a LATE transition whose required processors are all complete.

        The canary's opt-in auto-heal: reason ``deadline_partial``, through the
        same marker as a normal trigger, so it still happens exactly once.
        """
        now = now or self.clock()
        key = run_key.isoformat()
        outcome = Outcome("RECEIVED", key)
        expectation = self.expectations.expectation(self.transition, run_key, now)
        state = self.store.read(key)
        result = evaluate(state.data, expectation.expected, self.expectations.processors)
        outcome.completed = tuple(sorted(result.completed & expectation.expected))
        outcome.missing = result.missing
        if result.triggered:
            self._log(outcome, "ALREADY_TRIGGERED", "nothing to heal", None)
        elif not expectation.required <= result.completed:
            lacking = ", ".join(sorted(expectation.required - result.completed))
            self._log(outcome, "WAITING", f"cannot fire with deadline_partial: required "
                      f"{lacking} not complete", None)
        else:
            self._trigger(outcome, None, result, now, reason="deadline_partial")
        return outcome

    def _trigger(self, outcome: Outcome, completion: Completion | None, result: Evaluation,
                 now: dt.datetime, reason: str = "all_complete") -> None:
        run_key = outcome.run_key or ""
        owner = (completion.message_id if completion else None) or f"local-{uuid.uuid4().hex}"
        trigger_id = f"{self.transition}/{run_key}"
        marker = {
            "transition": self.transition, "run_key": run_key, "trigger_id": trigger_id,
            "pipeline": self.expectations.data["pipeline"],
            "collection": self.spec["collection"],
            "owner": owner, "state": "pending", "created_at": now,
            "lease_until": now + self.lease, "reason": reason,
            "completed": sorted(result.completed),
        }
        if not self.store.claim_trigger(self.transition, run_key, marker):
            if not self._resume_claim(outcome, completion, owner, now):
                return
        else:
            why = (f"all {len(outcome.completed)} expected processors complete"
                   if reason == "all_complete" else
                   f"deadline passed with {len(outcome.completed)} complete, every required one "
                   f"among them; missing {', '.join(result.missing)}")
            self._log(outcome, "TRIGGER_SET", f"{why}; this delivery fires the transition",
                      completion, reason=reason)
        published_id = None
        if self.spec["action"] == "trigger":
            published_id = self._publish(outcome, completion, result, trigger_id, now, reason)
        self.store.finish_trigger(
            self.transition, run_key,
            {"_triggered": True, "_triggered_at": now, "_trigger_reason": reason,
             "_trigger_pending": False, "_trigger_id": trigger_id, "_trigger_error": None},
            {"state": "published" if published_id else "recorded", "finished_at": now,
             "published_message_id": published_id},
        )
        outcome.triggered_now = True
        outcome.published_id = published_id

    def _resume_claim(self, outcome: Outcome, completion: Completion | None, owner: str,
                      now: dt.datetime) -> bool:
        """The marker exists: finish a trigger left pending, or leave it to its owner."""
        run_key = outcome.run_key or ""
        marker = self.store.read_marker(self.transition, run_key)
        data = marker.data or {}
        if data.get("collection", self.spec["collection"]) != self.spec["collection"]:
            self._log(outcome, "WAITING", f"a trigger marker for {self.transition}/{run_key} "
                      f"belongs to collection {data.get('collection')!r}, not "
                      f"{self.spec['collection']!r}; not firing and not copying its state",
                      completion, severity="ERROR")
            return False
        if data.get("state") in ("published", "recorded"):
            self.store.finish_trigger(
                self.transition, run_key,
                {"_triggered": True, "_triggered_at": data.get("finished_at", now),
                 "_trigger_reason": data.get("reason", "all_complete"), "_trigger_pending": False,
                 "_trigger_id": data.get("trigger_id")}, {})
            self._log(outcome, "ALREADY_TRIGGERED",
                      "the trigger was published earlier; document healed", completion)
            return False
        lease_until = data.get("lease_until")
        expired = isinstance(lease_until, dt.datetime) and lease_until < now
        if data.get("owner") != owner and not expired:
            self._log(outcome, "WAITING", "complete; another delivery is firing the trigger",
                      completion)
            return False
        if not self.store.take_over(self.transition, run_key, marker.update_time, owner,
                                    now + self.lease):
            self._log(outcome, "WAITING", "complete; another delivery took over the trigger",
                      completion)
            return False
        self._log(outcome, "TRIGGER_SET", "resuming a pending trigger", completion)
        return True

    def _publish(self, outcome: Outcome, completion: Completion | None, result: Evaluation,
                 trigger_id: str, now: dt.datetime, reason: str = "all_complete") -> str:
        topic = self.spec["trigger_topic"]
        body = {
            "transition": self.transition, "run_key": outcome.run_key,
            "trigger_id": trigger_id, "reason": reason,
            "completed": sorted(result.completed), "to_phase": self.spec["to_phase"],
            "registry_digest": self.expectations.registry_digest,
        }
        try:
            publish = self.publish or self._default_publisher()
            message_id = publish(topic, json.dumps(body, sort_keys=True).encode("utf-8"),
                                 {"trigger_id": trigger_id, "transition": self.transition})
        except Exception as error:
            reason = f"{type(error).__name__}: {error}"[:500]
            self.store.merge(outcome.run_key or "", {
                "_trigger_pending": True, "_trigger_error": reason, "_trigger_error_at": now})
            self._log(outcome, "TRIGGER_FAILED",
                      f"publishing to {topic} failed ({type(error).__name__}: {error}); the "
                      "trigger stays pending and the redelivery completes it", completion,
                      severity="ERROR", topic=topic)
            raise TriggerPublishFailed(f"publish to {topic} failed: {error}") from error
        self._log(outcome, "TRIGGER_PUBLISHED", f"published {trigger_id} to {topic}",
                  completion, topic=topic, published_message_id=message_id)
        return message_id

    def _default_publisher(self) -> Publish:
        from google.cloud import pubsub_v1  # type: ignore[attr-defined]

        client = pubsub_v1.PublisherClient()
        project = self.project or self.store.client.project

        def publish(topic: str, data: bytes, attributes: dict[str, str]) -> str:
            future = client.publish(client.topic_path(project, topic), data, **attributes)
            return str(future.result(timeout=60))

        self.publish = publish
        return publish

    def _log(self, outcome: Outcome, checkpoint: str, message: str,
             completion: Completion | None, severity: str = "INFO", **fields: Any) -> None:
        outcome.checkpoint = checkpoint
        outcome.checkpoints.append(checkpoint)
        self.log.emit(checkpoint, message, severity=severity, transition=self.transition,
                      run_key=outcome.run_key or "",
                      correlation_id=completion.correlation_id if completion else None,
                      **fields)


def _entry(completion: Completion, now: dt.datetime) -> dict[str, Any]:
    return {
        "completed_at": now if completion.completes else None,
        "recorded_at": now,
        "status": completion.status,
        "received_as": completion.processor_name,
        "correlation_id": completion.correlation_id,
        "execution_id": completion.execution_id,
        "record_count": completion.record_count,
        "output_table": completion.output_table,
        "reported_at": completion.timestamp,
        "message_id": completion.message_id,
    }


def _is_duplicate(existing: Any, completion: Completion) -> bool:
    """A completed processor is never overwritten; a repeat of the same message is a repeat."""
    if entry_completes(existing):
        return True
    return bool(isinstance(existing, dict) and completion.message_id
                and existing.get("message_id") == completion.message_id)
