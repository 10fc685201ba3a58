"""The Firestore edge: every call the orchestrator makes, counted and bounded in time.

No read-modify-write transactions: with the official emulator, 8
simultaneous transactions on one document failed 7 of 8 times. Completions
are blind merge writes, batched with the create-if-absent of a per-message
delivery marker (so two deliveries of one message record it once); the
trigger is claimed by creating a trigger marker, so exactly one delivery
attempt publishes.

Every call of one delivery shares one time budget (``begin``): a Firestore
outage fails the delivery within it, under Pub/Sub's 10 s acknowledgement
deadline, instead of the client's default of minutes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import re
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from phasegate.runtime import FIRESTORE_BACKOFF

MARKERS = "phasegate_triggers"
DELIVERIES = "phasegate_deliveries"
REJECTED = "phasegate_rejected"
DELIVERY_BUDGET_S = 7.0
DELIVERY_MARKER_DAYS = 7
MIRROR_COUNT_TIMEOUT_S = 5.0  # Pub/Sub keeps an unacknowledged message at most 7 days
_SAFE_ID = re.compile(r"[A-Za-z0-9_\-.:]{1,200}")


class StoreUnavailable(Exception):
    """Firestore did not answer within the delivery's budget; Pub/Sub should redeliver."""


def safe_document_id(text: str | None) -> str | None:
    """``text`` when Firestore accepts it as a document id as is, else a hash of it.

    Ids with a slash, ``.``/``..``, the reserved ``__x__`` form, odd characters
    or more than 200 characters are hashed (``sha256-<hex>``), never refused.
    """
    if text is None or text == "":
        return None
    if (_SAFE_ID.fullmatch(text) and text not in (".", "..") and not text.startswith("sha256-")
            and not (text.startswith("__") and text.endswith("__"))):
        return text
    return "sha256-" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class Snapshot:
    data: dict[str, Any] | None
    update_time: Any


class CompletionStore:
    """Documents of one transition's collection, its trigger and delivery markers."""

    def __init__(self, client: Any, collection: str, timeout: float = DELIVERY_BUDGET_S,
                 pipeline: str = "") -> None:
        self.client = client
        self.collection = collection
        # Markers of several pipelines share one collection: the pipeline is part of the key,
        # so one pipeline's firing can never stand in for another's.
        self.pipeline = pipeline
        self.marker_prefix = quote(pipeline, safe="-_.") + "__" if pipeline else ""
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.calls: Counter[str] = Counter()  # reads, writes, commits

    # -- the time budget ------------------------------------------------------

    def begin(self) -> None:
        """Start one delivery's budget: every call until the next ``begin`` shares it."""
        self.deadline = time.monotonic() + self.timeout

    def _bounded(self) -> dict[str, Any]:
        """``retry`` and ``timeout`` for one call: what is left of the budget."""
        from google.api_core.retry import Retry

        left = self.deadline - time.monotonic()
        if left <= 0.05:
            raise StoreUnavailable(f"Firestore did not answer within {self.timeout:.0f} s")
        initial, maximum, multiplier = FIRESTORE_BACKOFF
        retry = Retry(predicate=_transient, initial=initial, maximum=maximum,
                      multiplier=multiplier, timeout=left)
        return {"retry": retry, "timeout": left}

    # -- references -----------------------------------------------------------

    def _doc(self, run_key: str) -> Any:
        return self.client.collection(self.collection).document(run_key)

    def _marker(self, transition: str, run_key: str) -> Any:
        # readable, and unambiguous: names may hold "__", the hash of the three never collides
        return self.client.collection(MARKERS).document(
            f"{self.marker_prefix}{transition}__{run_key}__"
            f"{_identity(self.pipeline, transition, run_key)}")

    def _delivery(self, transition: str, message_id: str) -> Any:
        return self.client.collection(DELIVERIES).document(
            f"{self.marker_prefix}{transition}__{_identity(self.pipeline, transition, message_id)}")

    # -- completions ----------------------------------------------------------

    def read(self, run_key: str) -> Snapshot:
        self.calls["reads"] += 1
        snapshot = self._doc(run_key).get(**self._bounded())
        return Snapshot(snapshot.to_dict() if snapshot.exists else None, snapshot.update_time)

    def merge(self, run_key: str, fields: dict[str, Any]) -> None:
        self.calls["writes"] += 1
        self._doc(run_key).set(fields, merge=True, **self._bounded())

    def record(self, run_key: str, fields: dict[str, Any], transition: str,
               message_id: str | None, now: dt.datetime, *, seen: Snapshot | None = None,
               mark: bool = True) -> str:
        """Write a completion's fields in one atomic batch (not a transaction: no lock).

        With ``mark``, the batch also creates the message's delivery marker, so
        of two deliveries of one message exactly one writes. With ``seen``, the
        write holds only if the document is unchanged since that read (or still
        absent): a failed status never overwrites a success written meanwhile.
        Returns ``recorded``, ``marked`` (this message's marker exists) or
        ``changed`` (the document changed since ``seen``).
        """
        from google.api_core import exceptions

        batch = self.client.batch()
        if mark and message_id:
            batch.create(self._delivery(transition, message_id), {
                "run_key": run_key, "recorded_at": now,
                "expire_at": now + dt.timedelta(days=DELIVERY_MARKER_DAYS)})  # a TTL field
        document = self._doc(run_key)
        if seen is None:
            batch.set(document, fields, merge=True)
        elif seen.data is None:
            batch.create(document, fields)
        else:
            batch.update(document, _field_paths(fields),
                         option=self.client.write_option(last_update_time=seen.update_time))
        self.calls["commits"] += 1
        try:
            batch.commit(**self._bounded())
        except exceptions.AlreadyExists as error:
            return "marked" if DELIVERIES in str(error) else "changed"
        except exceptions.FailedPrecondition:
            return "changed"
        return "recorded"

    def set_first_completion(self, run_key: str, when: dt.datetime, seen: Any) -> bool:
        """Set ``_first_completion_at`` unless the document changed since ``seen``."""
        from google.api_core import exceptions

        self.calls["writes"] += 1
        option = self.client.write_option(last_update_time=seen)
        try:
            self._doc(run_key).update({"_first_completion_at": when}, option=option,
                                      **self._bounded())
        except (exceptions.FailedPrecondition, exceptions.Aborted):
            return False
        return True

    # -- the trigger ------------------------------------------------------------

    def claim_trigger(self, transition: str, run_key: str, marker: dict[str, Any]) -> bool:
        """Create the trigger marker and flag the document pending, atomically.

        Returns False when the marker already exists: another delivery attempt
        owns (or has finished) the trigger.
        """
        from google.api_core import exceptions

        batch = self.client.batch()
        batch.create(self._marker(transition, run_key), marker)
        batch.set(self._doc(run_key), {"_trigger_pending": True}, merge=True)
        self.calls["commits"] += 1
        try:
            batch.commit(**self._bounded())
        except exceptions.AlreadyExists:  # ABORTED (contention) is retried, never a "no"
            return False
        return True

    def read_marker(self, transition: str, run_key: str) -> Snapshot:
        self.calls["reads"] += 1
        snapshot = self._marker(transition, run_key).get(**self._bounded())
        return Snapshot(snapshot.to_dict() if snapshot.exists else None, snapshot.update_time)

    def take_over(self, transition: str, run_key: str, seen: Any, owner: str,
                  lease_until: dt.datetime) -> bool:
        """Become the marker's owner, unless someone else changed it since ``seen``."""
        from google.api_core import exceptions

        self.calls["writes"] += 1
        option = self.client.write_option(last_update_time=seen)
        try:
            self._marker(transition, run_key).update(
                {"owner": owner, "lease_until": lease_until}, option=option,
                **self._bounded())
        except (exceptions.FailedPrecondition, exceptions.NotFound):
            return False
        return True

    def release(self, transition: str, run_key: str, owner: str, now: dt.datetime) -> None:
        """End our lease at once (the publish failed), if it is still ours: the redelivery
        may take over. An attempt whose claim was taken over never ends the new owner's."""
        from google.api_core import exceptions

        marker = self.read_marker(transition, run_key)
        if (marker.data or {}).get("owner") != owner:
            return
        self.calls["writes"] += 1
        # changed meanwhile (FailedPrecondition): someone else owns it now
        with contextlib.suppress(exceptions.FailedPrecondition, exceptions.NotFound):
            self._marker(transition, run_key).update(
                {"lease_until": now, "released_by": owner},
                option=self.client.write_option(last_update_time=marker.update_time),
                **self._bounded())

    def renew(self, transition: str, run_key: str, owner: str,
              lease_until: dt.datetime) -> bool:
        """Extend our claim before the next send, unless it is no longer ours.

        A firing of several messages can outlast one lease; an owner whose
        claim was taken over must stop, or both would send the rest.
        """
        from google.api_core import exceptions

        marker = self.read_marker(transition, run_key)
        if (marker.data or {}).get("owner") != owner:
            return False
        self.calls["writes"] += 1
        try:
            self._marker(transition, run_key).update(
                {"lease_until": lease_until},
                option=self.client.write_option(last_update_time=marker.update_time),
                **self._bounded())
        except (exceptions.FailedPrecondition, exceptions.NotFound):
            return False
        return True

    def mark_sent(self, transition: str, run_key: str, trigger_id: str) -> None:
        """Record one message of a firing as sent, so that a retry never sends it again."""
        from google.cloud import firestore

        self.calls["writes"] += 1
        self._marker(transition, run_key).update(
            {"sent": firestore.ArrayUnion([trigger_id])}, **self._bounded())

    def finish_trigger(self, transition: str, run_key: str, document: dict[str, Any],
                       marker: dict[str, Any]) -> None:
        batch = self.client.batch()
        batch.set(self._doc(run_key), document, merge=True)
        batch.set(self._marker(transition, run_key), marker, merge=True)
        self.calls["commits"] += 1
        batch.commit(**self._bounded())

    # -- the BigQuery mirror ------------------------------------------------------

    def count_mirror_failure(self, run_key: str, rows: int = 1,
                             timeout: float = MIRROR_COUNT_TIMEOUT_S) -> None:
        """``_mirror_failures`` + ``rows`` on the document: its own short timeout, outside
        the delivery's budget (it runs on the mirror's worker thread, after the delivery)."""
        from google.cloud.firestore_v1 import Increment

        self.calls["mirror_writes"] += 1
        self._doc(run_key).set({"_mirror_failures": Increment(rows)}, merge=True,
                               timeout=timeout, retry=None)

    # -- rejected messages ------------------------------------------------------

    def record_rejection(self, key: str | None, record: dict[str, Any]) -> None:
        """Keep a malformed message under a safe id (redeliveries of it do not pile up)."""
        collection = self.client.collection(REJECTED)
        safe = safe_document_id(key)
        reference = collection.document(safe) if safe else collection.document()
        self.calls["writes"] += 1
        reference.set(record, **self._bounded())


def _identity(*parts: str) -> str:
    """A short hash of several names together: distinct whatever the names hold."""
    text = "\x00".join(parts)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]


def _transient(error: Exception) -> bool:
    """Worth retrying within the budget: unavailable, deadline, and ABORTED (contention)."""
    from google.api_core import exceptions
    from google.api_core.retry import if_transient_error

    return bool(if_transient_error(error)) or isinstance(error, exceptions.Aborted)


def _field_paths(fields: dict[str, Any]) -> dict[str, Any]:
    """``update`` takes field paths: a nested ``_unknown`` entry becomes ``_unknown.`name```.

    (An update would otherwise replace the whole ``_unknown`` map.)
    """
    from google.cloud.firestore_v1.field_path import FieldPath

    paths: dict[str, Any] = {}
    for key, value in fields.items():
        if key == "_unknown" and isinstance(value, dict):
            for name, entry in value.items():
                paths[FieldPath("_unknown", name).to_api_repr()] = entry
        else:
            paths[FieldPath(key).to_api_repr()] = value
    return paths
