"""The orchestrator against the official Firestore and Pub/Sub emulators."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.conftest import REPO
from tests.orchestrator_helpers import (
    PHASE3,
    REFERENCE,
    FakeClock,
    checkpoints,
    completion,
    create_trigger_subscription,
    drain,
    firestore_client,
    make_orchestrator,
    push,
)

pytestmark = pytest.mark.usefixtures("emulators")


def document(project: str, collection: str, run_key: str) -> dict:
    snapshot = firestore_client(project).collection(collection).document(run_key).get()
    return snapshot.to_dict() if snapshot.exists else {}


def test_sequential_completions_trigger_once(project_id):
    subscription = create_trigger_subscription(project_id)
    orchestrator, stream = make_orchestrator(project_id, "phase3_to_phase4")
    outcomes = [orchestrator.handle_push(push(completion(name), f"m-{i}"))
                for i, name in enumerate(PHASE3)]
    assert [o.checkpoint for o in outcomes] == ["WAITING"] * 4 + ["TRIGGER_PUBLISHED"]
    assert outcomes[-1].checkpoints[-2:] == ["TRIGGER_SET", "TRIGGER_PUBLISHED"]
    # deliveries after the trigger change nothing
    again = orchestrator.handle_push(push(completion(PHASE3[0]), "m-0"))
    assert again.checkpoints[-2:] == ["DUPLICATE", "ALREADY_TRIGGERED"]
    doc = document(project_id, "phase3_completion", "2026-02-09")
    assert doc["_triggered"] is True and doc["_trigger_reason"] == "all_complete"
    assert doc["_trigger_pending"] is False
    assert doc["_mode"] == "overnight"
    assert doc["_registry_digest"] == REFERENCE.registry_digest
    assert isinstance(doc["_first_completion_at"], dt.datetime)
    assert isinstance(doc["_last_completion_at"], dt.datetime)
    assert doc["player_game_summary"]["received_as"] == "PlayerGameSummaryProcessor"
    [message] = drain(subscription)
    assert message["trigger_id"] == "phase3_to_phase4/2026-02-09"
    assert message["transition"] == "phase3_to_phase4" and message["run_key"] == "2026-02-09"
    assert message["reason"] == "all_complete" and len(message["completed"]) == 5
    lines = checkpoints(stream)
    waiting = [line for line in lines if line["checkpoint"] == "WAITING"]
    assert waiting[0]["missing"][0].endswith(": enabled")
    assert waiting[-1]["message"].endswith("completed 4/5; missing "
                                           "upcoming_team_game_context: enabled")


def test_ordinary_completion_costs_three_firestore_calls(project_id):
    orchestrator, _ = make_orchestrator(project_id, "phase2_to_phase3")
    orchestrator.handle_push(push(completion("NbacGamebookProcessor"), "m-1"))
    first = dict(orchestrator.store.calls)
    # read, one batch (delivery marker + merge), read; + setting _first_completion_at once
    assert first == {"reads": 2, "commits": 1, "writes": 1}
    orchestrator.store.calls.clear()
    orchestrator.handle_push(push(completion("NbacPlayerBoxscoreProcessor"), "m-2"))
    assert dict(orchestrator.store.calls) == {"reads": 2, "commits": 1}
    orchestrator.store.calls.clear()
    orchestrator.handle_push(push(completion("NbacPlayerBoxscoreProcessor"), "m-2"))
    assert dict(orchestrator.store.calls) == {"reads": 1}  # a duplicate: one read


def test_every_alias_resolves_to_its_canonical_name(project_id):
    orchestrator, _ = make_orchestrator(project_id, "phase2_to_phase3")
    for index, (alias, canonical) in enumerate(sorted(REFERENCE.aliases.items())):
        if not canonical.startswith("p2_"):
            continue
        run_key = f"2026-01-{index % 28 + 1:02d}"
        outcome = orchestrator.handle_push(push(completion(alias, run_key), f"a-{index}"))
        assert outcome.processor == canonical
        assert document(project_id, "phase2_completion", run_key)[canonical]["received_as"] \
            == alias


def test_monitor_transition_marks_triggered_without_publishing(project_id):
    published = []
    orchestrator, _ = make_orchestrator(
        project_id, "phase2_to_phase3", publish=lambda *a: published.append(a) or "x")
    names = REFERENCE.transitions["phase2_to_phase3"]["expected"]
    for i, name in enumerate(names):
        outcome = orchestrator.handle_push(push(completion(name), f"m-{i}"))
    assert outcome.triggered_now and outcome.published_id is None
    assert published == []
    assert document(project_id, "phase2_completion", "2026-02-09")["_triggered"] is True


def test_duplicates_and_out_of_order_deliveries(project_id):
    clock = FakeClock()
    orchestrator, _ = make_orchestrator(project_id, "phase2_to_phase3", clock)
    orchestrator.handle_push(push(completion("NbacGamebookProcessor", status="failed"), "m-1"))
    clock.advance(minutes=5)
    orchestrator.handle_push(push(completion("NbacGamebookProcessor"), "m-2"))
    clock.advance(minutes=5)
    late_failure = orchestrator.handle_push(
        push(completion("NbacGamebookProcessor", status="failed"), "m-3"))
    duplicate = orchestrator.handle_push(push(completion("NbacGamebookProcessor"), "m-2"))
    assert late_failure.checkpoints[1] == "DUPLICATE"
    assert duplicate.checkpoints[1] == "DUPLICATE"
    doc = document(project_id, "phase2_completion", "2026-02-09")
    entry = doc["p2_nbacom_gamebook_pdf"]
    assert entry["status"] == "success" and entry["message_id"] == "m-2"
    assert entry["completed_at"] == dt.datetime(2026, 2, 10, 15, 5, tzinfo=dt.UTC)
    assert doc["_first_completion_at"] == entry["completed_at"]


def test_prewritten_key_without_trigger_heals_on_next_delivery(project_id):
    """A second writer recorded every key but the transaction never triggered (story 4)."""
    subscription = create_trigger_subscription(project_id)
    client = firestore_client(project_id)
    at = dt.datetime(2026, 2, 10, 6, 0, tzinfo=dt.UTC)
    client.collection("phase3_completion").document("2026-02-09").set({
        name: {"status": "success", "completed_at": at}
        for name in REFERENCE.transitions["phase3_to_phase4"]["expected"]})
    orchestrator, _ = make_orchestrator(project_id, "phase3_to_phase4")
    outcome = orchestrator.handle_push(push(completion("PlayerGameSummaryProcessor"), "m-9"))
    assert outcome.checkpoints[1] == "DUPLICATE"
    assert outcome.checkpoints[-1] == "TRIGGER_PUBLISHED"
    assert len(drain(subscription)) == 1
    doc = document(project_id, "phase3_completion", "2026-02-09")
    assert doc["_triggered"] is True and doc["_first_completion_at"] == at


def test_unknown_names_are_recorded_apart_and_never_counted(project_id):
    orchestrator, stream = make_orchestrator(project_id, "phase2_to_phase3")
    outcome = orchestrator.handle_push(push(completion("NbacGambookProcessor"), "m-1"))
    dotted = orchestrator.handle_push(push(completion("nba.raw.table v2"), "m-2"))
    assert outcome.checkpoint == dotted.checkpoint == "UNKNOWN_PROCESSOR"
    doc = document(project_id, "phase2_completion", "2026-02-09")
    assert set(doc["_unknown"]) == {"NbacGambookProcessor", "nba.raw.table v2"}
    assert not any(key in REFERENCE.processors for key in doc)
    line = [x for x in checkpoints(stream) if x["checkpoint"] == "UNKNOWN_PROCESSOR"][0]
    assert line["severity"] == "WARNING"
    assert "did you mean 'NbacGamebookProcessor'" in line["message"]


@pytest.mark.parametrize("event,reason", [
    ({"message": {"data": "%%%", "messageId": "bad-1"}}, "not valid base64"),
    (push({"processor_name": "x"}, "bad-2"), "game_date (or run_key) is missing"),
    (push({"processor_name": "x", "game_date": "2026-13-01", "status": "success"}, "bad-3"),
     "is not a date"),
    ({"message": {"data": "bm90IGpzb24=", "messageId": "bad-4"}}, "payload is not JSON"),
])
def test_malformed_messages_are_stored_and_acknowledged(project_id, event, reason):
    orchestrator, stream = make_orchestrator(project_id, "phase2_to_phase3")
    outcome = orchestrator.handle_push(event)  # no exception: acknowledged
    assert outcome.checkpoint == "REJECTED"
    message_id = event["message"]["messageId"]
    stored = firestore_client(project_id).collection("phasegate_rejected").document(
        f"phase2_to_phase3__{message_id}").get().to_dict()
    assert reason in stored["reason"]
    assert stored["transition"] == "phase2_to_phase3"
    assert "raw" in stored or "raw_base64" in stored
    [line] = checkpoints(stream)
    assert line["severity"] == "ERROR" and reason in line["message"]


def test_failing_publish_leaves_trigger_pending_and_redelivery_completes_it(project_id):
    from phasegate.orchestrator.core import TriggerPublishFailed

    subscription = create_trigger_subscription(project_id)
    real, _ = make_orchestrator(project_id, "phase3_to_phase4")
    attempts = []

    def flaky(topic, data, attributes):
        attempts.append(topic)
        if len(attempts) == 1:
            raise ConnectionError("Pub/Sub unavailable")
        return real._default_publisher()(topic, data, attributes)

    orchestrator, stream = make_orchestrator(project_id, "phase3_to_phase4", publish=flaky)
    for i, name in enumerate(PHASE3[:-1]):
        orchestrator.handle_push(push(completion(name), f"m-{i}"))
    last = push(completion(PHASE3[-1]), "m-last")
    with pytest.raises(TriggerPublishFailed):
        orchestrator.handle_push(last)
    doc = document(project_id, "phase3_completion", "2026-02-09")
    assert doc["_trigger_pending"] is True and not doc.get("_triggered")
    assert "ConnectionError" in doc["_trigger_error"]
    assert drain(subscription) == []
    # the failed attempt released its claim at once: the next delivery (a redelivered
    # duplicate of another processor here) takes it over and publishes
    other = orchestrator.handle_push(push(completion(PHASE3[0]), "m-0"))
    assert other.checkpoints[-2:] == ["TRIGGER_SET", "TRIGGER_PUBLISHED"]
    assert len(drain(subscription)) == 1
    # Pub/Sub redelivers the failed message too: it finds the transition fired
    again = orchestrator.handle_push(last)
    assert again.checkpoints[-1] == "ALREADY_TRIGGERED" and not again.triggered_now
    assert drain(subscription) == []
    doc = document(project_id, "phase3_completion", "2026-02-09")
    assert doc["_triggered"] is True and doc["_trigger_pending"] is False
    assert doc["_trigger_error"] is None
    assert [x["checkpoint"] for x in checkpoints(stream)].count("TRIGGER_FAILED") == 1


def test_pending_trigger_with_expired_lease_is_taken_over(project_id):
    subscription = create_trigger_subscription(project_id)
    clock = FakeClock()

    def broken(topic, data, attributes):
        raise ConnectionError("down")

    from phasegate.orchestrator.core import TriggerPublishFailed

    failing, _ = make_orchestrator(project_id, "phase3_to_phase4", clock, publish=broken)
    for i, name in enumerate(PHASE3[:-1]):
        failing.handle_push(push(completion(name), f"m-{i}"))
    with pytest.raises(TriggerPublishFailed):
        failing.handle_push(push(completion(PHASE3[-1]), "m-last"))
    clock.advance(minutes=3)  # the lease (2 minutes) has run out
    healthy, _ = make_orchestrator(project_id, "phase3_to_phase4", clock)
    outcome = healthy.handle_push(push(completion(PHASE3[0]), "m-other"))
    assert outcome.checkpoints[-1] == "TRIGGER_PUBLISHED"
    assert len(drain(subscription)) == 1


DEPLOYED = REPO / "orchestrator" / "expected_processors.py"


def test_on_completion_cloud_event_entry_point(project_id):
    from cloudevents.http import CloudEvent

    from phasegate.orchestrator import function_handlers

    on_completion, _ = function_handlers(DEPLOYED, environ={
        "PHASEGATE_TRANSITION": "phase2_to_phase3", "GOOGLE_CLOUD_PROJECT": project_id})
    event = CloudEvent({"type": "google.cloud.pubsub.topic.v1.messagePublished",
                        "source": "//pubsub.googleapis.com/projects/p/topics/completions"},
                       push(completion("NbacGamebookProcessor"), "ce-1"))
    on_completion(event)
    doc = document(project_id, "phase2_completion", "2026-02-09")
    assert doc["p2_nbacom_gamebook_pdf"]["message_id"] == "ce-1"
    assert doc["_transition_digest"] == REFERENCE.transition_digest("phase2_to_phase3")


def test_on_push_http_entry_point_records_and_acknowledges(project_id):
    import flask

    from phasegate.orchestrator import function_handlers

    _, on_push = function_handlers(DEPLOYED, environ={
        "PHASEGATE_TRANSITION": "phase2_to_phase3", "GOOGLE_CLOUD_PROJECT": project_id})
    app = flask.Flask(__name__)
    body = json.dumps(push(completion("NbacGamebookProcessor"), "push-1")).encode()
    with app.test_request_context("/", method="POST", data=body,
                                  content_type="application/json"):
        assert on_push(flask.request) == ("", 204)
    with app.test_request_context("/", method="POST", data=b""):  # an empty push body
        assert on_push(flask.request) == ("", 204)  # stored as rejected, acknowledged
    doc = document(project_id, "phase2_completion", "2026-02-09")
    assert doc["p2_nbacom_gamebook_pdf"]["message_id"] == "push-1"
    from google.cloud import firestore

    rejected = list(firestore.Client(project=project_id).collection("phasegate_rejected").stream())
    assert len(rejected) == 1 and "push body is empty" in rejected[0].to_dict()["reason"]


@pytest.mark.parametrize("environ, message", [
    ({}, "PHASEGATE_TRANSITION is not set"),
    ({"PHASEGATE_TRANSITION": "analytics_to_predictions"},
     "unknown transition 'analytics_to_predictions'"),
    ({"PHASEGATE_TRANSITION": "phase2_to_phase3", "PHASEGATE_REGISTRY_DIGEST": "0" * 64},
     "was generated from another registry"),
])
def test_a_deployment_that_cannot_serve_fails_at_cold_start(environ, message):
    import io

    from phasegate.orchestrator import function_handlers
    from phasegate.orchestrator.function import ColdStartFailed
    from phasegate.orchestrator.logs import CheckpointLog

    stream = io.StringIO()
    with pytest.raises(ColdStartFailed, match=message):
        function_handlers(DEPLOYED, environ=environ, log=CheckpointLog(stream))
    [line] = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert line["checkpoint"] == "COLD_START_FAILED" and line["severity"] == "CRITICAL"
    assert message in line["message"] and line["file"] == str(DEPLOYED)


def test_a_missing_generated_module_fails_at_cold_start_naming_it(tmp_path):
    import io

    from phasegate.orchestrator import function_handlers
    from phasegate.orchestrator.function import ColdStartFailed
    from phasegate.orchestrator.logs import CheckpointLog

    stream = io.StringIO()
    missing = tmp_path / "expected_processors.py"
    with pytest.raises(ColdStartFailed, match="is missing: run `phasegate generate`"):
        function_handlers(missing, environ={"PHASEGATE_TRANSITION": "x"},
                          log=CheckpointLog(stream))
    assert str(missing) in stream.getvalue()


def _expectations_for(pipeline: str):
    from phasegate.registry.generate import expectations
    from phasegate.registry.loading import load_registry_text
    from phasegate.runtime import Expectations

    text = f"""\
version: 1
pipeline: {pipeline}
timezone: UTC
processors:
  p2_a: {{phase: 2}}
transitions:
  phase2_to_phase3:
    from_phase: 2
    to_phase: 3
    collection: {pipeline}_phase2
    action: trigger
    trigger_topic: {pipeline}-phase3
"""
    loaded = load_registry_text(text, "r.yaml")
    assert loaded.registry is not None
    return Expectations.from_data(expectations(loaded.registry), pipeline)


def test_two_pipelines_with_the_same_transition_name_each_fire(project_id):
    """One project, two pipelines, both with phase2_to_phase3: neither firing stands in
    for the other's (the trigger marker is keyed by pipeline too)."""
    import io

    from phasegate.orchestrator.core import Orchestrator
    from phasegate.orchestrator.logs import CheckpointLog

    published: list[str] = []

    def publish(topic: str, data: bytes, attributes: dict[str, str]) -> str:
        published.append(topic)
        return str(len(published))

    for pipeline in ("nba", "mlb"):
        orchestrator = Orchestrator(
            "phase2_to_phase3", firestore_client(project_id), publish=publish,
            expectations=_expectations_for(pipeline), clock=FakeClock(),
            log=CheckpointLog(io.StringIO()))
        outcome = orchestrator.handle_push(push(completion("p2_a"), f"{pipeline}-1"))
        assert outcome.checkpoints[-1] == "TRIGGER_PUBLISHED", (pipeline, outcome.checkpoints)
    assert published == ["nba-phase3", "mlb-phase3"]
