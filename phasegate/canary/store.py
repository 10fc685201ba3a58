"""The canary's Firestore edge: batched reads, incident claims, one final commit. Counted.

A run reads every completion document of every transition in one batched
get and the incidents that need attention in one query, whatever the number
of run keys; each incident that changes costs one conditional write (the
claim that keeps two simultaneous runs from both notifying), and the run
ends with one commit (delivery results and the heartbeat).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from phasegate.runtime import FIRESTORE_BACKOFF

INCIDENTS = "phasegate_incidents"
CANARY = "phasegate_canary"


class CanaryStore:
    """One pipeline's view: its incidents and its heartbeat, in collections pipelines share.

    Several pipelines may run in one project; each canary reads, opens and
    resolves only its own pipeline's incidents, and writes its own heartbeat.
    """

    def __init__(self, client: Any, *, pipeline: str, timeout: float = 30.0) -> None:
        from google.api_core.retry import Retry, if_transient_error

        self.client = client
        self.pipeline = pipeline
        self.prefix = quote(pipeline, safe="-_.") + "__"
        self.timeout = timeout
        initial, maximum, multiplier = FIRESTORE_BACKOFF
        self.retry = Retry(predicate=if_transient_error, initial=initial, maximum=maximum,
                           multiplier=multiplier, timeout=timeout)
        self.calls: Counter[str] = Counter()

    def read_documents(self, wanted: Iterable[tuple[str, str]],
                       ) -> dict[tuple[str, str], dict[str, Any] | None]:
        """(collection, run key) -> document, all in one batched get."""
        pairs = list(wanted)
        references = [self.client.collection(c).document(k) for c, k in pairs]
        found: dict[tuple[str, str], dict[str, Any] | None] = dict.fromkeys(pairs)
        self.calls["reads"] += 1
        for snapshot in self.client.get_all(references, retry=self.retry, timeout=self.timeout):
            key = (snapshot.reference.parent.id, snapshot.id)
            found[key] = snapshot.to_dict() if snapshot.exists else None
        return found

    def read_incidents(self) -> dict[str, tuple[dict[str, Any], Any]]:
        """Incidents that are open or still owe a delivery: dedup key -> (data, update time)."""
        from google.cloud.firestore_v1.base_query import FieldFilter

        self.calls["reads"] += 1
        query = self.client.collection(INCIDENTS).where(
            filter=FieldFilter("needs_attention", "==", True)).where(
            filter=FieldFilter("pipeline", "==", self.pipeline))
        found: dict[str, tuple[dict[str, Any], Any]] = {}
        for snapshot in query.get(retry=self.retry, timeout=self.timeout):
            data = snapshot.to_dict() or {}
            key = data.get("dedup_key")  # one without is named by its id; the run reports it
            found[key if isinstance(key, str) else f"<{snapshot.id}>"] = (
                data, snapshot.update_time)
        return found

    def claim(self, incident_id: str, fields: dict[str, Any], seen: Any | None) -> bool:
        """Write ``fields`` only if nobody else did since ``seen`` (or create it when None).

        Exactly one of several simultaneous runs wins, and only the winner notifies.
        """
        from google.api_core import exceptions

        reference = self._incident(incident_id)
        fields = {**fields, "pipeline": self.pipeline}
        self.calls["writes"] += 1
        try:
            if seen is None:
                reference.create(fields, retry=self.retry, timeout=self.timeout)
            else:
                reference.update(fields, option=self.client.write_option(last_update_time=seen),
                                 retry=self.retry, timeout=self.timeout)
        except exceptions.AlreadyExists:
            return self._reopen(reference, fields)
        except (exceptions.FailedPrecondition, exceptions.Aborted, exceptions.NotFound):
            return False
        return True

    def _reopen(self, reference: Any, fields: dict[str, Any]) -> bool:
        """An incident resolved earlier opens again: claim it against its last update."""
        from google.api_core import exceptions

        self.calls["reads"] += 1
        snapshot = reference.get(retry=self.retry, timeout=self.timeout)
        if snapshot.exists and (snapshot.get("open") or snapshot.get("pending")):
            return False  # another run opened it a moment ago
        self.calls["writes"] += 1
        try:
            reference.update(fields, option=self.client.write_option(
                last_update_time=snapshot.update_time), retry=self.retry, timeout=self.timeout)
        except (exceptions.FailedPrecondition, exceptions.Aborted):
            return False
        return True

    def finish(self, updates: dict[str, dict[str, Any]], heartbeat: dict[str, Any]) -> None:
        """Delivery results and the heartbeat, in one commit."""
        batch = self.client.batch()
        for incident_id, fields in updates.items():
            # each field replaced whole: a merge would keep the channels already delivered
            # in ``pending`` and send them the same notification again on the next run
            batch.set(self._incident(incident_id), fields, merge=list(fields))
        batch.set(self._heartbeat(), {**heartbeat, "pipeline": self.pipeline})
        self.calls["commits"] += 1
        batch.commit(retry=self.retry, timeout=self.timeout)

    def read_heartbeat(self) -> dict[str, Any] | None:
        self.calls["reads"] += 1
        snapshot = self._heartbeat().get(retry=self.retry, timeout=self.timeout)
        return snapshot.to_dict() if snapshot.exists else None

    def _incident(self, incident_id: str) -> Any:
        return self.client.collection(INCIDENTS).document(self.prefix + incident_id)

    def _heartbeat(self) -> Any:
        """``phasegate_canary/heartbeat__<pipeline>``: one per pipeline."""
        return self.client.collection(CANARY).document(f"heartbeat__{self.prefix[:-2]}")



class FirestoreUnavailable(Exception):
    """No Firestore client could be made (no credentials, no project): a one-line reason."""


def firestore_client(project: str | None) -> Any:
    """A Firestore client, or :class:`FirestoreUnavailable` with a one-line reason.

    Without credentials google-auth raises DefaultCredentialsError (after
    probing the metadata server unless NO_GCE_CHECK is set); that is the
    canary failing to do its job (exit 3), not an internal error.
    """
    import os

    try:
        from google.cloud import firestore

        return firestore.Client(project=project or os.environ.get("GOOGLE_CLOUD_PROJECT"))
    except Exception as error:  # noqa: BLE001 - every failure here means "no Firestore"
        if any(cls.__name__ == "DefaultCredentialsError" for cls in type(error).__mro__):
            reason = ("no Google credentials were found (set GOOGLE_APPLICATION_CREDENTIALS, "
                      "run `gcloud auth application-default login`, run on Google Cloud, or "
                      "set FIRESTORE_EMULATOR_HOST)")
        else:
            text = " ".join(str(error).split())[:300]
            reason = f"the Firestore client could not be created ({type(error).__name__}" + (
                f": {text})" if text else ")")
        raise FirestoreUnavailable(reason) from None
