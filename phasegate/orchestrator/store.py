"""The Firestore edge: every call the orchestrator makes, counted.

No read-modify-write transactions: with the official emulator, 8
simultaneous transactions on one document failed 7 of 8 times. Completions
are blind merge writes; the trigger is claimed by creating a marker
document (create-if-absent), so exactly one delivery publishes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

MARKERS = "phasegate_triggers"
REJECTED = "phasegate_rejected"


@dataclass
class Snapshot:
    data: dict[str, Any] | None
    update_time: Any


class CompletionStore:
    """Documents of one transition's collection, and its trigger markers."""

    def __init__(self, client: Any, collection: str, timeout: float = 30.0,
                 pipeline: str = "") -> None:
        from google.api_core.retry import Retry, if_transient_error

        self.client = client
        self.collection = collection
        # Markers of several pipelines share one collection: the pipeline is part of the key,
        # so one pipeline's firing can never stand in for another's.
        self.marker_prefix = quote(pipeline, safe="-_.") + "__" if pipeline else ""
        self.timeout = timeout
        # The client's default retry keeps trying a stopped server for up to 300 s; bound
        # every call, so an outage raises (and Pub/Sub redelivers) within ``timeout``.
        self.retry = Retry(predicate=if_transient_error, initial=0.1, maximum=2.0,
                           multiplier=2.0, timeout=timeout)
        self.calls: Counter[str] = Counter()  # reads, writes, commits

    def _doc(self, run_key: str) -> Any:
        return self.client.collection(self.collection).document(run_key)

    def _marker(self, transition: str, run_key: str) -> Any:
        return self.client.collection(MARKERS).document(
            f"{self.marker_prefix}{transition}__{run_key}")

    def read(self, run_key: str) -> Snapshot:
        self.calls["reads"] += 1
        snapshot = self._doc(run_key).get(retry=self.retry, timeout=self.timeout)
        return Snapshot(snapshot.to_dict() if snapshot.exists else None, snapshot.update_time)

    def merge(self, run_key: str, fields: dict[str, Any]) -> None:
        self.calls["writes"] += 1
        self._doc(run_key).set(fields, merge=True, retry=self.retry, timeout=self.timeout)

    def set_first_completion(self, run_key: str, when: dt.datetime, seen: Any) -> bool:
        """Set ``_first_completion_at`` unless the document changed since ``seen``."""
        from google.api_core import exceptions

        self.calls["writes"] += 1
        option = self.client.write_option(last_update_time=seen)
        try:
            self._doc(run_key).update({"_first_completion_at": when}, option=option,
                                      retry=self.retry, timeout=self.timeout)
        except (exceptions.FailedPrecondition, exceptions.Aborted):
            return False
        return True

    def claim_trigger(self, transition: str, run_key: str, marker: dict[str, Any]) -> bool:
        """Create the trigger marker and flag the document pending, atomically.

        Returns False when the marker already exists: another delivery owns
        (or has finished) the trigger.
        """
        from google.api_core import exceptions

        batch = self.client.batch()
        batch.create(self._marker(transition, run_key), marker)
        batch.set(self._doc(run_key), {"_trigger_pending": True}, merge=True)
        self.calls["commits"] += 1
        try:
            batch.commit(retry=self.retry, timeout=self.timeout)
        except (exceptions.AlreadyExists, exceptions.Conflict):
            return False
        return True

    def read_marker(self, transition: str, run_key: str) -> Snapshot:
        self.calls["reads"] += 1
        snapshot = self._marker(transition, run_key).get(retry=self.retry, timeout=self.timeout)
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
                retry=self.retry, timeout=self.timeout)
        except (exceptions.FailedPrecondition, exceptions.Aborted, exceptions.NotFound):
            return False
        return True

    def finish_trigger(self, transition: str, run_key: str, document: dict[str, Any],
                       marker: dict[str, Any]) -> None:
        batch = self.client.batch()
        batch.set(self._doc(run_key), document, merge=True)
        batch.set(self._marker(transition, run_key), marker, merge=True)
        self.calls["commits"] += 1
        batch.commit(retry=self.retry, timeout=self.timeout)

    def record_rejection(self, key: str | None, record: dict[str, Any]) -> None:
        """Keep a malformed message; keyed by message id so redeliveries do not pile up."""
        collection = self.client.collection(REJECTED)
        reference = collection.document(key) if key else collection.document()
        self.calls["writes"] += 1
        reference.set(record, retry=self.retry, timeout=self.timeout)
