"""Property: every push body ends recorded, rejected-and-stored, or a transient store error.

Hypothesis generates push bodies and payloads (arbitrary JSON, arbitrary bytes,
hostile ids and names) and sends them through ``handle_push`` on the Firestore
emulator: never an unhandled exception, never a document over the size limit,
never a trigger for an incomplete run key.
"""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from phasegate.orchestrator.core import Orchestrator, TriggerInProgress
from phasegate.orchestrator.logs import CheckpointLog
from phasegate.orchestrator.state import entry_completes
from phasegate.orchestrator.store import StoreUnavailable
from tests.orchestrator_helpers import PHASE3, REFERENCE, FakeClock, firestore_client

pytestmark = pytest.mark.usefixtures("emulators")

HOSTILE_TEXT = st.sampled_from([
    "", ".", "..", "__x__", "a/b", "m" * 2000, "\ud800", "\x00", "  padded  ", "<!channel>",
    "NbacGamebookProcessor", "PlayerGameSummaryProcessor", "_triggered", "p2_bdl_box_scores",
    *PHASE3,
]) | st.text(max_size=40)
JSON_LEAF = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
             | st.floats(allow_nan=True, allow_infinity=True) | HOSTILE_TEXT)
JSON_VALUE = st.recursive(JSON_LEAF, lambda inner: st.lists(inner, max_size=4)
                          | st.dictionaries(HOSTILE_TEXT, inner, max_size=4), max_leaves=12)
RUN_KEY = st.sampled_from(["2026-02-09", "2026-02-10", "2026-02-30", "9999-01-01", "x"]) | JSON_LEAF
STATUS = st.sampled_from(["success", "partial", "failed", "no_data", "skipped"]) | JSON_VALUE
PAYLOAD = st.fixed_dictionaries(
    {"processor_name": HOSTILE_TEXT | JSON_VALUE, "game_date": RUN_KEY, "status": STATUS},
    optional={"record_count": JSON_LEAF, "correlation_id": JSON_LEAF, "run_key": RUN_KEY,
              "timestamp": JSON_LEAF, "extra": JSON_VALUE})


NEAR_VALID = st.fixed_dictionaries(
    {"processor_name": st.sampled_from([*PHASE3, "NbacGamebookProcessor", "StrangerProcessor",
                                        "p2_br_season_roster"]),
     "game_date": st.sampled_from([f"2026-02-{day:02d}" for day in range(1, 8)]),
     "status": st.sampled_from(["success", "partial", "failed", "no_data", "skipped"])},
    optional={"record_count": st.integers(min_value=0, max_value=2**63 - 1) | JSON_LEAF,
              "correlation_id": HOSTILE_TEXT, "extra": JSON_VALUE})


def _encode(payload: object) -> bytes:
    return json.dumps(payload).encode("utf-8", "surrogatepass")


DATA = (NEAR_VALID.map(_encode) | NEAR_VALID.map(_encode) | PAYLOAD.map(_encode)
        | JSON_VALUE.map(_encode) | st.binary(max_size=200))
MESSAGE = st.fixed_dictionaries(
    {"data": DATA.map(lambda b: base64.b64encode(b).decode())},
    optional={"messageId": HOSTILE_TEXT | JSON_LEAF, "attributes": JSON_VALUE,
              "publishTime": JSON_LEAF})
ENVELOPE = st.fixed_dictionaries({"message": MESSAGE}, optional={"subscription": JSON_LEAF})
BODY = (ENVELOPE.map(_encode) | ENVELOPE.map(_encode) | ENVELOPE.map(_encode)
        | JSON_VALUE.map(_encode) | st.binary(max_size=300))
OUTCOMES = {"REJECTED", "RECORDED", "DUPLICATE", "UNKNOWN_PROCESSOR", "OUT_OF_SCOPE",
            "WAITING", "ALREADY_TRIGGERED", "TRIGGER_PUBLISHED"}


@pytest.fixture(scope="module")
def orchestrator(emulators):
    project = f"fuzz-{uuid.uuid4().hex[:10]}"
    published: list[bytes] = []

    def publish(topic: str, data: bytes, attributes: dict[str, str]) -> str:
        published.append(data)
        return str(len(published))

    return Orchestrator("phase3_to_phase4", firestore_client(project), publish=publish,
                        expectations=REFERENCE, clock=FakeClock(), project=project,
                        log=CheckpointLog(open("/dev/null", "w")))  # noqa: SIM115


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(body=BODY)
def test_every_push_body_has_a_defined_outcome(orchestrator, body):
    try:
        outcome = orchestrator.handle_push(body)
    except (StoreUnavailable, TriggerInProgress):  # transient: Pub/Sub delivers again
        return
    assert outcome.checkpoints[-1] in OUTCOMES, outcome.checkpoints
    event(outcome.checkpoints[-1])  # the statistics show every outcome is reached
    if outcome.run_key and outcome.checkpoints[-1] != "REJECTED":
        snapshot = orchestrator.store.client.collection("phase3_completion").document(
            outcome.run_key).get()
        if snapshot.exists:
            document = snapshot.to_dict()
            assert len(json.dumps(document, default=str)) < 1_000_000
            if document.get("_triggered"):  # fired only when the expected set is complete
                expected = set(document["_expected"])
                done = {name for name, entry in document.items() if entry_completes(entry)}
                assert expected <= done, (expected - done)
