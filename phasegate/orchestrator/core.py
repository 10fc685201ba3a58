"""Record a completion and fire the transition exactly once: the orchestrator's logic.

Callable from Python without a push body (:meth:`Orchestrator.handle`), with
Firestore, Pub/Sub publishing, the clock and the log injected. Per ordinary
completion it makes three Firestore round trips: a read (is it a duplicate?),
one batch (the message's delivery marker, created only if absent, and a blind
merge of the processor's entry) and a strongly consistent read to decide. No
read-modify-write transaction is involved anywhere, so twenty processors
completing in the same second all get recorded.

Exactly once: the right to fire belongs to one *delivery attempt* (a fresh
token per call), claimed by creating a trigger marker. Another attempt that
finds the marker pending under a live lease raises :class:`TriggerInProgress`
so that Pub/Sub delivers again later (by then it has fired, or the lease has
run out and the attempt takes over). Every firing carries ``trigger_id`` so
that the downstream can drop the one duplicate no design can exclude: the
process dies after publishing and before the marker says so.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from phasegate import policy
from phasegate.orchestrator.logs import Checkpoint, CheckpointLog
from phasegate.orchestrator.messages import Completion, Rejected, decode_push, parse_completion
from phasegate.orchestrator.state import Evaluation, completion_state, entry_completes
from phasegate.orchestrator.store import (
    DELIVERY_BUDGET_S,
    CompletionStore,
    Snapshot,
    StoreUnavailable,
)
from phasegate.runtime import Expectation, Expectations, as_time, processor_status

if TYPE_CHECKING:
    from phasegate.mirror.sender import BackgroundMirror, MirrorSender
    from phasegate.orchestrator.targets import Outgoing, Send

Clock = Callable[[], dt.datetime]
Publish = Callable[[str, bytes, dict[str, str]], str]  # topic id, data, attributes -> id
TRIGGER_LEASE = dt.timedelta(minutes=2)
MAX_UNKNOWN_NAMES = 100  # kept per document; beyond, only _unknown_count grows
REJECTED_DAYS = 30  # how long a rejected message is kept (a TTL field)
PUBLISH_TIMEOUT_S = 20.0


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class TriggerPublishFailed(Exception):
    """The trigger could not be published; raised so that Pub/Sub redelivers."""


class NothingToFire(Exception):
    """A manual firing that would send nothing (``each: completed`` with nothing complete)."""


class TriggerInProgress(Exception):
    """Another delivery attempt holds a live claim to fire; raised so that Pub/Sub redelivers.

    The redelivery finds the transition fired, or the lease expired and takes over:
    nothing is lost if the claim's owner died.
    """


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
    reason: str | None = None  # why it fired, when this call fired it
    checkpoints: list[str] = field(default_factory=list)


class Orchestrator:
    """One transition's orchestrator (the Cloud Function serves one transition)."""

    def __init__(self, transition: str, firestore_client: Any, *, expectations: Expectations,
                 publish: Publish | None = None, clock: Clock = utc_now,
                 log: CheckpointLog | None = None, project: str | None = None,
                 timeout: float = DELIVERY_BUDGET_S, lease: dt.timedelta = TRIGGER_LEASE,
                 environ: Mapping[str, str] | None = None,
                 token_provider: Callable[[str], str] | None = None,
                 send: Send | None = None,
                 mirror: MirrorSender | BackgroundMirror | None = None) -> None:
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
        self.environ = environ  # where an HTTP target's URL and audience are (os.environ)
        self.token_provider = token_provider
        self.send = send  # replaces the target's own sender (tests, scenarios)
        self.tiers = policy.tiers_of(self.spec)
        self.mirror = _mirror_of(expectations, mirror)
        self._rows: list[dict[str, Any]] = []  # this delivery's mirror rows, sent at its end

    # -- the BigQuery mirror ----------------------------------------------------

    def _mirror_row(self, row: dict[str, Any]) -> None:
        if self.mirror is not None:
            self._rows.append(row)

    def _send_mirror(self) -> None:
        """Hand this delivery's rows to the mirror's worker, after every Firestore write.

        Never raises and never waits: a failure is a MIRROR_FAILED line and
        ``_mirror_failures`` incremented on the document, from the worker.
        """
        rows, self._rows = self._rows, []
        if self.mirror is None or not rows:
            return
        try:
            self.mirror.submit(rows, lambda reason: self._mirror_failed(rows, reason))
        except Exception as error:  # noqa: BLE001 - the mirror never fails the Firestore path
            self._mirror_failed(rows, f"{type(error).__name__}: {error}")

    def settle_mirror(self, timeout: float | None = None) -> bool:
        """Wait (bounded) for the rows handed to the mirror; True when none is pending."""
        return self.mirror.settle(timeout) if self.mirror is not None else True

    def _mirror_failed(self, rows: list[dict[str, Any]], reason: str) -> None:
        for run_key in sorted({str(row["run_key"]) for row in rows}):
            lost = sum(1 for row in rows if str(row["run_key"]) == run_key)
            counted = "counted in _mirror_failures"
            try:
                self.store.count_mirror_failure(run_key, lost)
            except Exception as error:  # noqa: BLE001 - this line still says what failed
                counted = f"not counted ({type(error).__name__})"
            events = ", ".join(sorted({str(row["event"]) for row in rows
                                       if row["run_key"] == run_key}))
            # a log stream that fails is no reason to raise
            with contextlib.suppress(Exception):
                self._log(Outcome("MIRROR_FAILED", run_key), "MIRROR_FAILED",
                          f"{events} not mirrored to BigQuery: {reason}; {counted}; Firestore "
                          "recording and firing are unaffected", None, severity="WARNING",
                          table=self.mirror.table if self.mirror is not None else None)

    # -- entry points -------------------------------------------------------

    def handle_push(self, event_data: Any) -> Outcome:
        """A Pub/Sub push body: malformed messages are stored and acknowledged.

        Raises :class:`StoreUnavailable` (after one STORE_UNAVAILABLE line) when
        Firestore does not answer within the delivery's budget, so that Pub/Sub
        delivers again; :class:`TriggerInProgress` and
        :class:`TriggerPublishFailed` likewise. Nothing else escapes.
        """
        self.store.begin()
        try:
            return self._handle_push(event_data)
        finally:
            self._send_mirror()

    def _handle_push(self, event_data: Any) -> Outcome:
        try:
            try:
                envelope = decode_push(event_data)
            except Rejected as rejected:
                return self.reject(rejected, rejected.message_id, rejected.subscription)
            try:
                completion = parse_completion(envelope.data, envelope.message_id)
            except Rejected as rejected:
                return self.reject(rejected, envelope.message_id, envelope.subscription)
            return self._handle(completion)
        except StoreUnavailable as error:
            self._unavailable(error)
            raise
        except Exception as error:
            if is_store_error(error):
                self._unavailable(error)
                raise StoreUnavailable(str(error)) from error
            raise

    def handle(self, completion: Completion) -> Outcome:
        """Record one completion and fire the transition if it is now complete."""
        self.store.begin()
        try:
            return self._handle(completion)
        finally:
            self._send_mirror()

    def _handle(self, completion: Completion) -> Outcome:
        now = self.clock()
        token = uuid.uuid4().hex  # this delivery attempt: the owner of any claim it makes
        run_key = completion.run_key.isoformat()
        outcome = Outcome("RECEIVED", run_key, completion.processor_name)
        self._log(outcome, "RECEIVED", f"{completion.processor_name} {completion.status}",
                  completion, processor=completion.processor_name, status=completion.status,
                  message_id=completion.message_id)
        canonical = self.expectations.canonical_name(completion.processor_name)
        if canonical is None:
            return self._record_unknown(outcome, completion, now)
        outcome.processor = canonical
        phase = self.expectations.processors[canonical]["phase"]
        if phase != self.spec["from_phase"]:
            self._log(outcome, "OUT_OF_SCOPE",
                      f"{canonical} is a phase {phase} processor; this function serves "
                      f"phase {self.spec['from_phase']}: acknowledged, nothing written",
                      completion, processor=canonical)
            return outcome
        expectation = self.expectations.expectation(self.transition, completion.run_key, now)
        fields: dict[str, Any] = {canonical: _entry(completion, now), **self._meta(
            expectation.mode, expectation.expected)}
        if completion.completes:
            fields["_last_completion_at"] = now
        state = self._record(outcome, completion, canonical, fields, now)
        result = completion_state(state.data, expectation.expected, self.expectations.processors)
        outcome.completed = tuple(sorted(result.completed & expectation.expected))
        outcome.missing = result.missing
        if result.first_completion_at is None and result.earliest_completion is not None:
            self.store.set_first_completion(run_key, result.earliest_completion,
                                            state.update_time)
        decision = self._decide(state.data, expectation, result, now)
        if result.triggered:
            self._log(outcome, "ALREADY_TRIGGERED", "the transition has already fired",
                      completion)
        elif decision.holds:
            self._trigger(outcome, completion, result, now, token,
                          reason=decision.reason or "all_complete")
        else:
            expected_count = len(expectation.expected)
            processors = self.expectations.processors
            missing = [f"{name}: {processor_status(name, processors)}" for name in result.missing]
            upcoming = f"; next: {decision.next.described()}" if decision.next else ""
            self._log(outcome, "WAITING",
                      f"completed {len(outcome.completed)}/{expected_count}; missing "
                      f"{', '.join(missing)}{upcoming}", completion,
                      completed_count=len(outcome.completed), expected_count=expected_count,
                      missing=missing)
        return outcome

    def _decide(self, document: Mapping[str, Any] | None, expectation: Expectation,
                result: Evaluation, now: dt.datetime) -> policy.Decision:
        """The policy at ``now`` over the document just read: no extra Firestore call."""
        fields = document or {}
        completed_at = {name: as_time((fields.get(name) or {}).get("completed_at"))
                        for name in result.completed}
        # an older document may hold ISO strings: read as the canary reads them
        first = as_time(result.first_completion_at) or result.earliest_completion
        return policy.decide(self.tiers, expectation.expected, expectation.required,
                             completed_at, first, now)

    def _record(self, outcome: Outcome, completion: Completion, canonical: str,
                fields: dict[str, Any], now: dt.datetime) -> Snapshot:
        """Record the entry once; return the document as it is afterwards (a fresh read).

        A completing status is a blind merge (success may replace failure). A
        non-completing one is written only if the document is unchanged since
        it was read, so it never replaces a success written meanwhile. The
        message's delivery marker makes a second delivery of it a DUPLICATE,
        unless the document does not hold it (a replay after a registry fix).
        """
        run_key = outcome.run_key or ""
        before = self.store.read(run_key)
        mark = True
        for _ in range(3):
            existing = (before.data or {}).get(canonical)
            if existing is not None and _is_duplicate(existing, completion):
                self._mirror_redelivery(run_key, canonical, existing, completion,
                                        before.data or {})
                self._log(outcome, "DUPLICATE",
                          f"{canonical} already recorded as {existing.get('status')}; not "
                          "counted twice, re-evaluating", completion, processor=canonical)
                return before if mark else self.store.read(run_key)
            seen = None if completion.completes else before
            result = self.store.record(run_key, fields, self.transition,
                                       completion.message_id, now, seen=seen, mark=mark)
            if result == "recorded":
                self._log(outcome, "RECORDED", f"{canonical} {completion.status} (received as "
                          f"{completion.processor_name})", completion, processor=canonical,
                          status=completion.status, mode=fields.get("_mode"))
                self._mirror_completion(run_key, canonical, completion.status, now,
                                        completion.message_id)
                return self.store.read(run_key)
            mark = mark and result != "marked"  # the marker exists: never create it again
            before = self.store.read(run_key)
        raise StoreUnavailable(f"{canonical}: the document kept changing under three writes; "
                               "Pub/Sub delivers again")

    def _mirror_completion(self, run_key: str, processor: str, status: str, at: dt.datetime,
                           message_id: str | None) -> None:
        if self.mirror is None:
            return
        from phasegate.mirror.rows import completion_row

        self._mirror_row(completion_row(self.transition, run_key, processor, status, at,
                                        message_id, self.expectations.registry_digest))

    def _mirror_redelivery(self, run_key: str, processor: str, existing: Any,
                           completion: Completion, document: dict[str, Any]) -> None:
        """A redelivery of the recorded message: the same rows again, with the same insert
        ids (the first delivery may have died before its rows were sent; BigQuery drops a
        second one, and history counts a run key's firing once): the completion, and the
        firing when the document says the run key fired."""
        if self.mirror is None or not completion.message_id or not isinstance(existing, dict):
            return
        recorded = as_time(existing.get("recorded_at"))
        if existing.get("message_id") != completion.message_id or recorded is None:
            return
        self._mirror_completion(run_key, processor, str(existing.get("status")), recorded,
                                completion.message_id)
        fired_at = as_time(document.get("_triggered_at"))
        if document.get("_triggered") is True and fired_at is not None:
            from phasegate.mirror.rows import firing_row

            reason = document.get("_trigger_reason")
            trigger = document.get("_trigger_id")
            self._mirror_row(firing_row(
                self.transition, run_key, reason if isinstance(reason, str) else "all_complete",
                fired_at, trigger if isinstance(trigger, str) else policy.trigger_id(
                    self.transition, run_key), None, self.expectations.registry_digest))

    def _meta(self, mode: str | None, expected: frozenset[str]) -> dict[str, Any]:
        return {
            "_expected": sorted(expected),
            "_mode": mode,
            "_registry_digest": self.expectations.registry_digest,
            "_transition_digest": self.spec["digest"],
        }

    def _record_unknown(self, outcome: Outcome, completion: Completion,
                        now: dt.datetime) -> Outcome:
        """Keep a name the registry lacks (at most 100 per document, then only a count).

        It never counts, and never starts the deadline clock.
        """
        from google.cloud.firestore_v1 import Increment

        run_key = outcome.run_key or ""
        mark = True
        for _ in range(3):
            before = self.store.read(run_key)
            kept = (before.data or {}).get("_unknown")
            kept = kept if isinstance(kept, dict) else {}
            fields: dict[str, Any] = {"_unknown_count": Increment(1)}
            if completion.processor_name in kept or len(kept) < MAX_UNKNOWN_NAMES:
                fields["_unknown"] = {completion.processor_name: _entry(completion, now)}
                where = "recorded under _unknown"
                seen: Snapshot | None = before  # the cap holds under concurrency too
            else:
                where = f"counted only (_unknown already holds {MAX_UNKNOWN_NAMES} names)"
                seen = None
            result = self.store.record(run_key, fields, self.transition,
                                       completion.message_id, now, seen=seen, mark=mark)
            if result != "changed":
                break
        else:
            raise StoreUnavailable("the document kept changing under three writes")
        if result == "marked":
            self._log(outcome, "DUPLICATE", f"{completion.processor_name!r}: message "
                      f"{completion.message_id} was recorded by another delivery", completion)
            return outcome
        close = difflib.get_close_matches(completion.processor_name,
                                          list(self.expectations.aliases), 1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        self._log(outcome, "UNKNOWN_PROCESSOR",
                  f"{completion.processor_name!r} is not in the registry; {where} and not "
                  f"counted{hint}", completion, severity="WARNING",
                  processor=completion.processor_name)
        return outcome

    def reject(self, rejected: Rejected, message_id: str | None,
               subscription: str | None) -> Outcome:
        """Store a malformed message with its reason; acknowledged, never redelivered."""
        now = self.clock()
        record: dict[str, Any] = {
            "received_at": now,
            "expire_at": now + dt.timedelta(days=REJECTED_DAYS),  # a TTL field
            "reason": _utf8(rejected.reason),
            "transition": self.transition,
            "message_id": message_id,
            "subscription": subscription,
            **_raw_fields(rejected.raw),
        }
        self.store.record_rejection(f"{self.transition}__{message_id}" if message_id else None,
                                    record)
        outcome = Outcome("REJECTED")
        self._log(outcome, "REJECTED", _utf8(rejected.reason), None, severity="ERROR",
                  message_id=message_id)
        return outcome

    def _unavailable(self, error: Exception) -> None:
        self._log(Outcome("STORE_UNAVAILABLE"), "STORE_UNAVAILABLE",
                  f"Firestore did not answer ({type(error).__name__}: {str(error)[:300]}); "
                  "not acknowledged, Pub/Sub will deliver again", None, severity="ERROR")

    # -- the trigger ----------------------------------------------------------

    def fire_due(self, run_key: dt.date, now: dt.datetime | None = None) -> Outcome:
        """Fire a run key whose policy holds with no new message (a tier came due).

        The canary calls this on its schedule: a tier such as ``{after: 2h,
        min: 3}`` starts to hold when the time passes, not when a message
        arrives. Through the same marker as every firing, so exactly once.
        """
        at = now or self.clock()
        outcome, expectation, state, result = self._read_run_key(run_key, at)
        decision = self._decide(state.data, expectation, result, at)
        if result.triggered:
            self._log(outcome, "ALREADY_TRIGGERED", "the transition has already fired", None)
        elif not decision.holds:
            upcoming = f": {decision.next.described()}" if decision.next else ""
            self._log(outcome, "WAITING", f"the policy does not hold yet{upcoming}", None)
        else:
            # decided as of ``at`` (the canary's evaluation), but claimed, leased and stamped
            # at the clock's time: a lease counted from an earlier moment could be expired
            # already, and another attempt would fire too. Another attempt firing it right
            # now is an outcome too.
            try:
                with contextlib.suppress(TriggerInProgress):
                    self._trigger(outcome, None, result, self.clock(), uuid.uuid4().hex,
                                  reason=decision.reason or "all_complete")
            finally:
                self._send_mirror()
                self.settle_mirror()  # not a delivery: the caller may exit right after
        return outcome

    def fire_manual(self, run_key: dt.date, note: str, now: dt.datetime | None = None,
                    ) -> Outcome:
        """``phasegate fire``: fire now, whatever is complete, unless the run key already fired.

        Reason ``manual``, with the operator's note; the same marker makes it
        exactly once against a delivery or a canary firing at the same moment.
        """
        now = now or self.clock()
        outcome, _, state, result = self._read_run_key(run_key, now)
        if result.triggered:
            self._log(outcome, "ALREADY_TRIGGERED",
                      f"already fired ({(state.data or {}).get('_trigger_reason')}); a manual "
                      "firing is refused", None)
            return outcome
        if (self.spec["action"] == "trigger" and self._target().get("each") == "completed"
                and not outcome.completed):
            raise NothingToFire(f"{self.transition}/{outcome.run_key}: no expected processor "
                                "has completed, and the target sends one message per completed "
                                "processor: firing would send nothing and close the run key")
        try:
            self._trigger(outcome, None, result, now, uuid.uuid4().hex, reason="manual",
                          note=note)
        finally:
            self._send_mirror()
            self.settle_mirror()  # the command exits right after
        return outcome

    def _read_run_key(self, run_key: dt.date, now: dt.datetime,
                      ) -> tuple[Outcome, Expectation, Snapshot, Evaluation]:
        """A run key's document as it is now, for a firing that no message started."""
        self.store.begin()
        key = run_key.isoformat()
        outcome = Outcome("RECEIVED", key)
        expectation = self.expectations.expectation(self.transition, run_key, now)
        state = self.store.read(key)
        result = completion_state(state.data, expectation.expected, self.expectations.processors)
        outcome.completed = tuple(sorted(result.completed & expectation.expected))
        outcome.missing = result.missing
        return outcome, expectation, state, result

    def _trigger(self, outcome: Outcome, completion: Completion | None, result: Evaluation,
                 now: dt.datetime, token: str, reason: str = "all_complete",
                 note: str | None = None) -> None:
        run_key = outcome.run_key or ""
        trigger_id = policy.trigger_id(self.transition, run_key)
        marker = {
            "transition": self.transition, "run_key": run_key, "trigger_id": trigger_id,
            "pipeline": self.expectations.data["pipeline"],
            "collection": self.spec["collection"],
            "owner": token, "state": "pending", "created_at": now,
            "lease_until": now + self.lease, "reason": reason,
            "completed": list(outcome.completed),  # the expected ones: what the firing sends
            **({"note": note} if note is not None else {}),
        }
        sent: frozenset[str] = frozenset()
        if not self.store.claim_trigger(self.transition, run_key, marker):
            taken = self._take_over(outcome, completion, token, now)
            if taken is None:
                return
            sent = taken
        else:
            self._log(outcome, "TRIGGER_SET",
                      f"{_why(reason, outcome, result)}; this attempt fires the transition",
                      completion, reason=reason)
        published_id = None
        mode = marker_mode(self.expectations, self.transition, run_key, now)
        if self.spec["action"] == "trigger":
            published_id = self._send_all(outcome, completion, result, now, reason, token,
                                          mode, sent)
            self.store.begin()  # the sending is not Firestore's time: the finish gets a budget
        self.store.finish_trigger(
            self.transition, run_key,
            {"_triggered": True, "_triggered_at": now, "_trigger_reason": reason,
             "_trigger_pending": False, "_trigger_id": trigger_id, "_trigger_error": None,
             "_trigger_mode": mode, "_trigger_completed": list(outcome.completed),
             **({"_trigger_note": note} if note is not None else {})},
            {"state": "published" if published_id else "recorded", "finished_at": now,
             "published_message_id": published_id},
        )
        outcome.triggered_now = True
        outcome.published_id = published_id
        outcome.reason = reason
        if self.mirror is not None:
            from phasegate.mirror.rows import firing_row

            self._mirror_row(firing_row(self.transition, run_key, reason, now, trigger_id,
                                        completion.message_id if completion else None,
                                        self.expectations.registry_digest))

    def _take_over(self, outcome: Outcome, completion: Completion | None, token: str,
                   now: dt.datetime) -> frozenset[str] | None:
        """The marker exists: heal a finished firing, take over an expired claim, or wait.

        A live claim belongs to another delivery attempt, even one of this very
        message (Pub/Sub delivers a message twice at the same moment): this
        attempt never publishes then; it raises so that Pub/Sub delivers again.
        Returns the trigger ids an earlier owner already sent (never sent twice),
        or None when this attempt must not fire.
        """
        run_key = outcome.run_key or ""
        marker = self.store.read_marker(self.transition, run_key)
        data = marker.data or {}
        if data.get("collection", self.spec["collection"]) != self.spec["collection"]:
            self._log(outcome, "WAITING", f"a trigger marker for {self.transition}/{run_key} "
                      f"belongs to collection {data.get('collection')!r}, not "
                      f"{self.spec['collection']!r}; not firing and not copying its state",
                      completion, severity="ERROR")
            return None
        if data.get("state") in ("published", "recorded"):
            self.store.finish_trigger(
                self.transition, run_key,
                {"_triggered": True, "_triggered_at": data.get("finished_at", now),
                 "_trigger_reason": data.get("reason", "all_complete"), "_trigger_pending": False,
                 "_trigger_id": data.get("trigger_id")}, {})
            self._log(outcome, "ALREADY_TRIGGERED",
                      "the trigger was published earlier; document healed", completion)
            return None
        sent = frozenset(str(i) for i in data.get("sent") or () if isinstance(i, str))
        if data.get("owner") == token:
            return sent  # our own claim, whose commit answered late: go on firing
        lease_until = data.get("lease_until")
        expired = isinstance(lease_until, dt.datetime) and lease_until <= now
        if not expired:
            self._log(outcome, "TRIGGER_IN_PROGRESS",
                      f"another delivery attempt is firing {self.transition}/{run_key} (lease "
                      f"until {lease_until}); not acknowledged, so Pub/Sub delivers again",
                      completion)
            raise TriggerInProgress(f"{self.transition}/{run_key} is being fired by another "
                                    "delivery attempt")
        if not self.store.take_over(self.transition, run_key, marker.update_time, token,
                                    now + self.lease):
            self._log(outcome, "TRIGGER_IN_PROGRESS", "another delivery attempt took over the "
                      "expired claim a moment ago; Pub/Sub delivers again", completion)
            raise TriggerInProgress(f"{self.transition}/{run_key} was just taken over")
        self._log(outcome, "TRIGGER_SET", "the previous claim's lease expired; this delivery "
                  "attempt takes it over and fires", completion)
        return sent

    def _send_all(self, outcome: Outcome, completion: Completion | None, result: Evaluation,
                  now: dt.datetime, reason: str, token: str, mode: str | None,
                  sent: frozenset[str]) -> str | None:
        """Send every message of this firing that an earlier owner did not send.

        With ``each: completed`` each message is recorded on the marker as it
        goes, so a retry after a failure part-way never resends one that was
        accepted (over HTTP, never a second POST after a 2xx).
        """
        from phasegate.orchestrator.targets import TargetFailed

        target = self._target()
        messages = self._messages(target, outcome, result, reason, mode)
        where = _where(target)
        first_id: str | None = None
        for index, message in enumerate(messages):
            if message.trigger_id in sent:
                continue
            self.store.begin()  # each message's Firestore calls get their own budget
            if index and not self.store.renew(self.transition, outcome.run_key or "", token,
                                              self.clock() + self.lease):
                self._log(outcome, "TRIGGER_IN_PROGRESS",
                          f"the claim on {self.transition}/{outcome.run_key} was taken over "
                          f"after {index} of {len(messages)} messages; the new owner sends "
                          "the rest", completion)
                raise TriggerInProgress(f"{self.transition}/{outcome.run_key} was taken over")
            try:
                send = self.send or self._sender(target)
                sent_id = send(message)
            except Exception as error:
                failure = (str(error) if isinstance(error, TargetFailed)
                           else f"{type(error).__name__}: {error}")[:500]
                self._log(outcome, "TRIGGER_FAILED",
                          f"sending {message.trigger_id} to {where} failed ({failure}); the "
                          "firing stays pending and is retried with the same trigger id",
                          completion, severity="ERROR", target=where)
                self.store.begin()  # however long the sending took, release the claim
                self.store.merge(outcome.run_key or "", {
                    "_trigger_pending": True, "_trigger_error": failure,
                    "_trigger_error_at": now})
                self.store.release(self.transition, outcome.run_key or "", token, now)
                raise TriggerPublishFailed(f"sending to {where} failed: {failure}") from error
            if len(messages) > 1:
                self.store.begin()
                self.store.mark_sent(self.transition, outcome.run_key or "", message.trigger_id)
            self._log(outcome, "TRIGGER_PUBLISHED", f"sent {message.trigger_id} to {where}",
                      completion, target=where, published_message_id=sent_id,
                      trigger_id=message.trigger_id)
            first_id = first_id or sent_id
        return first_id or (f"{len(messages)} sent earlier" if messages else None)

    def _target(self) -> Mapping[str, Any]:
        """The target as generated; ``trigger_topic`` alone is a Pub/Sub target."""
        target: Mapping[str, Any] | None = self.spec.get("target")
        if target:
            return target
        return {"kind": "pubsub", "topic": self.spec["trigger_topic"], "message": None,
                "each": None}

    def _messages(self, target: Mapping[str, Any], outcome: Outcome, result: Evaluation,
                  reason: str, mode: str | None) -> list[Outgoing]:
        """The firing's messages: one, or one per completed *expected* processor with ``each``.

        A completed processor the run key's mode does not expect is not part of the firing.
        """
        from phasegate.orchestrator.targets import Outgoing

        run_key = outcome.run_key or ""
        completed = list(outcome.completed)
        values: dict[str, Any] = {
            "run_key": run_key, "transition": self.transition, "mode": mode,
            "reason": reason, "completed": completed, "missing": list(result.missing),
        }
        each = completed if target.get("each") == "completed" else [None]
        messages = []
        for processor in each:
            identity = policy.trigger_id(self.transition, run_key, processor)
            filled = {**values, "trigger_id": identity, "processor": processor}
            template = target.get("message")
            body = policy.render(template, filled) if template is not None else {
                "transition": self.transition, "run_key": run_key, "trigger_id": identity,
                "reason": reason, "completed": completed, "to_phase": self.spec["to_phase"],
                "registry_digest": self.expectations.registry_digest,
                **({"processor": processor} if processor else {}),
            }
            messages.append(Outgoing(identity, body, {"trigger_id": identity,
                                                      "transition": self.transition}))
        return messages

    def _sender(self, target: Mapping[str, Any]) -> Send:
        from phasegate.orchestrator import targets

        if target.get("kind") == "http":
            import os

            return targets.http_sender(target, self.environ if self.environ is not None
                                       else os.environ, token_provider=self.token_provider)
        return targets.pubsub_sender(str(target["topic"]),
                                     self.publish or self._default_publisher())

    def _default_publisher(self) -> Publish:
        from google.cloud import pubsub_v1  # type: ignore[attr-defined]

        client = pubsub_v1.PublisherClient()
        project = self.project or self.store.client.project

        def publish(topic: str, data: bytes, attributes: dict[str, str]) -> str:
            future = client.publish(client.topic_path(project, topic), data, **attributes)
            return str(future.result(timeout=PUBLISH_TIMEOUT_S))

        self.publish = publish
        return publish

    def _log(self, outcome: Outcome, checkpoint: Checkpoint, message: str,
             completion: Completion | None, severity: str = "INFO", **fields: Any) -> None:
        outcome.checkpoint = checkpoint
        outcome.checkpoints.append(checkpoint)
        self.log.emit(checkpoint, message, severity=severity, transition=self.transition,
                      run_key=outcome.run_key or "",
                      correlation_id=completion.correlation_id if completion else None,
                      **fields)


def _mirror_of(expectations: Expectations, given: MirrorSender | BackgroundMirror | None,
               ) -> BackgroundMirror | None:
    """The mirror the registry asks for (``mirror.bigquery.table``), on a worker thread."""
    from_registry: Any = expectations.data.get("mirror")
    if given is None and not from_registry:
        return None
    from phasegate.mirror.sender import BackgroundMirror, MirrorSender

    if isinstance(given, BackgroundMirror):
        return given
    if isinstance(given, MirrorSender):
        return BackgroundMirror(given)
    return BackgroundMirror(MirrorSender(str(from_registry["bigquery"]["table"])))


def _why(reason: str, outcome: Outcome, result: Evaluation) -> str:
    """Why this firing happens, for its TRIGGER_SET line."""
    count = len(outcome.completed)
    missing = ", ".join(result.missing) or "none"
    if reason == "all_complete":
        return f"all {count} expected processors complete"
    if reason == "manual":
        return f"fired by hand with {count} complete; missing {missing}"
    if reason == "deadline_partial":
        return (f"deadline passed with {count} complete, every required one among them; "
                f"missing {missing}")
    return f"policy {reason} holds with {count} complete; missing {missing}"


def _where(target: Mapping[str, Any]) -> str:
    """A target for a log line: a topic, or the variable holding a URL (never the URL)."""
    if target.get("kind") == "http":
        return f"the URL in ${target.get('url_env')}"
    return f"topic {target.get('topic')}"


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


def marker_mode(expectations: Expectations, transition: str, run_key: str,
                now: dt.datetime) -> str | None:
    """The mode the run key was in when it fired (one firing per run key, whatever the mode)."""
    return expectations.expectation(transition, dt.date.fromisoformat(run_key), now).mode


def is_store_error(error: Exception) -> bool:
    """A Firestore failure that another delivery may not meet (an outage, a timeout)."""
    from google.api_core import exceptions

    return isinstance(error, exceptions.RetryError | exceptions.ServerError
                      | exceptions.DeadlineExceeded | exceptions.TooManyRequests
                      | exceptions.ServiceUnavailable | exceptions.Aborted)


def _utf8(text: str) -> str:
    """``text`` as Firestore can store it: a lone surrogate becomes an escape."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _raw_fields(raw: bytes | str | None) -> dict[str, Any]:
    """The rejected message as sent (at most 100 kB): text when it is UTF-8, else base64."""
    import base64

    if raw is None:
        return {}
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else bytes(raw)
    data = data[:100_000]
    try:
        return {"raw": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"raw_base64": base64.b64encode(data).decode("ascii")}
