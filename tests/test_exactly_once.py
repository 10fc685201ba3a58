"""Exactly once under every fault, on the official emulators.

Same-message redelivery races, a stall after the publish, a claim whose owner
died, floods of unknown names, a shared completion topic and poison messages.
"""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest

from phasegate.orchestrator.core import TriggerInProgress
from phasegate.orchestrator.store import StoreUnavailable
from tests.orchestrator_helpers import (
    PHASE3,
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
RUN_KEYS = [f"2026-01-{day:02d}" for day in range(1, 31)]


def _document(project: str, collection: str, run_key: str):
    return firestore_client(project).collection(collection).document(run_key).get()


def test_the_same_message_delivered_twice_at_once_fires_once_per_run_key(project_id):
    """Two processes deliver the final completion, with one message id, at the same instant,
    over 30 run keys; the real Pub/Sub emulator publisher: one trigger each."""
    from tests.contention_worker import deliver_all_at_once

    subscription = create_trigger_subscription(project_id)
    first, _ = make_orchestrator(project_id, "phase3_to_phase4")
    for run_key in RUN_KEYS:
        for name in PHASE3[:-1]:
            first.handle_push(push(completion(name, run_key), f"{name}-{run_key}"))
    collected = deliver_all_at_once(project_id, [PHASE3[-1], PHASE3[-1]], RUN_KEYS,
                                    same_message=True)
    assert [error for _, _, error in collected] == [None, None]
    messages = drain(subscription)
    assert sorted(m["trigger_id"] for m in messages) == [
        f"phase3_to_phase4/{run_key}" for run_key in RUN_KEYS]
    outcomes = [o for _, worker, _ in collected for o in worker]
    recorded = [o[0] for o in outcomes if "RECORDED" in o[1]]
    assert len(recorded) == len(set(recorded))  # never RECORDED by both deliveries
    assert sum(o[2] for o in outcomes) == len(RUN_KEYS)  # one publishing attempt per run key


def test_a_stall_after_the_publish_is_the_one_documented_duplicate(project_id):
    """The process publishes, then Firestore stalls before the marker says so: the
    redelivery cannot know and, once the lease has run out, publishes again with the same
    trigger_id, which the downstream drops (docs/runbook.md)."""
    subscription = create_trigger_subscription(project_id)
    clock = FakeClock()
    orchestrator, stream = make_orchestrator(project_id, "phase3_to_phase4", clock)
    for name in PHASE3[:-1]:
        orchestrator.handle_push(push(completion(name), f"m-{name}"))
    from google.api_core import exceptions

    finish = orchestrator.store.finish_trigger
    stalls = []

    def stall_once(*args, **kwargs):
        if not stalls:
            stalls.append(1)
            raise exceptions.ServiceUnavailable("stalled after the publish")
        return finish(*args, **kwargs)

    orchestrator.store.finish_trigger = stall_once
    last = push(completion(PHASE3[-1]), "m-last")
    with pytest.raises(StoreUnavailable):
        orchestrator.handle_push(last)
    with pytest.raises(TriggerInProgress):  # redelivered within the lease: not yet
        orchestrator.handle_push(last)
    clock.advance(minutes=3)  # the lease has run out
    again = orchestrator.handle_push(last)
    assert again.checkpoints[-2:] == ["TRIGGER_SET", "TRIGGER_PUBLISHED"]
    messages = drain(subscription)
    assert [m["trigger_id"] for m in messages] == ["phase3_to_phase4/2026-02-09"] * 2
    document = _document(project_id, "phase3_completion", "2026-02-09").to_dict()
    assert document["_triggered"] is True and document["_trigger_pending"] is False
    assert [c["checkpoint"] for c in checkpoints(stream)].count("STORE_UNAVAILABLE") == 1


def test_a_claim_whose_owner_died_is_taken_over_after_its_lease(project_id):
    subscription = create_trigger_subscription(project_id)
    clock = FakeClock()
    orchestrator, _ = make_orchestrator(project_id, "phase3_to_phase4", clock)
    for name in PHASE3[:-1]:
        orchestrator.handle_push(push(completion(name), f"m-{name}"))
    store = orchestrator.store
    store.begin()
    assert store.claim_trigger("phase3_to_phase4", "2026-02-09", {  # a process that died
        "owner": "dead", "state": "pending", "lease_until": clock.now + dt.timedelta(minutes=2),
        "collection": "phase3_completion"})
    last = push(completion(PHASE3[-1]), "m-last")
    with pytest.raises(TriggerInProgress):
        orchestrator.handle_push(last)
    assert drain(subscription) == []
    clock.advance(minutes=2, seconds=1)
    outcome = orchestrator.handle_push(last)
    assert outcome.triggered_now and len(drain(subscription)) == 1


def test_two_thousand_unknown_names_then_the_real_five_fire_once(project_id):
    subscription = create_trigger_subscription(project_id)
    orchestrator, _ = make_orchestrator(project_id, "phase3_to_phase4")
    for index in range(2000):
        outcome = orchestrator.handle_push(push(completion(f"Stranger{index:04d}Processor"),
                                                f"u-{index}"))
        assert outcome.checkpoints[-1] == "UNKNOWN_PROCESSOR"
    snapshot = _document(project_id, "phase3_completion", "2026-02-09")
    document = snapshot.to_dict()
    assert len(document["_unknown"]) == 100 and document["_unknown_count"] == 2000
    assert len(json.dumps(document, default=str)) < 1_000_000 // 2  # far from Firestore's 1 MiB
    assert "_first_completion_at" not in document  # unknown names start no clock
    for name in PHASE3:
        orchestrator.handle_push(push(completion(name), f"m-{name}"))
    assert len(drain(subscription)) == 1


def test_a_phase_2_completion_at_the_phase_3_function_writes_nothing(project_id):
    from phasegate.canary.evaluate import Settings, evaluate
    from tests.conftest import REPO

    orchestrator, stream = make_orchestrator(project_id, "phase3_to_phase4")
    outcome = orchestrator.handle_push(push(completion("NbacGamebookProcessor"), "p2-1"))
    assert outcome.checkpoints == ["RECEIVED", "OUT_OF_SCOPE"]
    assert not _document(project_id, "phase3_completion", "2026-02-09").exists
    settings = Settings(json.loads((REPO / "canary" / "expected.json").read_text()))
    later = dt.datetime(2026, 2, 11, 12, 0, tzinfo=dt.UTC)
    [check] = evaluate("phase3_to_phase4", "2026-02-09", None, later, settings)
    assert (check.state, check.alerting) == ("NO_DATA", False)


def test_a_disabled_processor_of_the_phase_starts_no_clock(project_id):
    orchestrator, _ = make_orchestrator(project_id, "phase2_to_phase3")
    orchestrator.handle_push(push(completion("BdlBoxscoresProcessor"), "disabled-1"))
    document = _document(project_id, "phase2_completion", "2026-02-09").to_dict()
    assert document["p2_bdl_box_scores"]["status"] == "success"  # recorded, not counted
    assert "_first_completion_at" not in document


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _payload(body: dict) -> dict:
    return {"message": {"data": _b64(json.dumps(body).encode()), "messageId": "p-1"}}


POISON = {
    "status as a list": _payload({"processor_name": "NbacGamebookProcessor",
                                  "game_date": "2026-02-09", "status": ["success"]}),
    "lone surrogate in a name": {"message": {"messageId": "p-2", "data": _b64(
        b'{"processor_name": "Nbac\\ud800Processor", "game_date": "2026-02-09", '
        b'"status": "success"}')}},
    "record_count 1e30": _payload({"processor_name": "NbacGamebookProcessor",
                                   "game_date": "2026-02-09", "status": "success",
                                   "record_count": 1e30}),
    "record_count 10**30": {"message": {"messageId": "p-3", "data": _b64(
        b'{"processor_name": "NbacGamebookProcessor", "game_date": "2026-02-09", '
        b'"status": "success", "record_count": 1000000000000000000000000000000}')}},
    "deep nesting": {"message": {"messageId": "p-4", "data": _b64(
        b'{"processor_name": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")}},
    "message id a/b": {"message": {"messageId": "a/b", "data": _b64(b"not json")}},
    "message id ..": {"message": {"messageId": "..", "data": _b64(b"not json")}},
    "message id __x__": {"message": {"messageId": "__x__", "data": _b64(b"not json")}},
    "message id 2000 characters": {"message": {"messageId": "m" * 2000,
                                               "data": _b64(b"not json")}},
    "no data": {"message": {"messageId": "p-5", "attributes": {"a": "b"}}},
    "no message": {"subscription": "s"},
    "empty body": b"",
    "attributes only": {"message": {"attributes": {"processor_name": "x"}}},
}


@pytest.mark.parametrize("body", POISON.values(), ids=POISON.keys())
def test_every_poison_message_is_stored_and_acknowledged(project_id, body):
    orchestrator, _ = make_orchestrator(project_id, "phase2_to_phase3")
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    outcome = orchestrator.handle_push(raw)
    assert outcome.checkpoints == ["REJECTED"]
    stored = list(firestore_client(project_id).collection("phasegate_rejected").stream())
    assert len(stored) == 1
    record = stored[0].to_dict()
    assert record["reason"] and ("raw" in record or "raw_base64" in record)


def _expectations(pipeline: str, transition: str = "phase2_to_phase3", aliases: str = "",
                  modes: str = ""):
    from phasegate.registry.generate import expectations
    from phasegate.registry.loading import load_registry_text
    from phasegate.runtime import Expectations

    text = f"""\
version: 1
pipeline: {pipeline}
timezone: America/New_York
processors:
  p2_a: {{phase: 2{aliases}}}
  p2_b: {{phase: 2}}
transitions:
  {transition}:
    from_phase: 2
    to_phase: 3
    collection: {pipeline.replace('-', '_')}_phase2
    action: trigger
    trigger_topic: {pipeline}-phase3
{modes}"""
    loaded = load_registry_text(text, "r.yaml")
    assert loaded.registry is not None, loaded.problems
    return Expectations.from_data(expectations(loaded.registry), pipeline)


def _record_publish(topic, data, attributes):
    return "published"


def _orchestrator(project: str, expectations, transition: str = "phase2_to_phase3",
                  publish=_record_publish, clock=None, timeout: float = 7.0):
    import io

    from phasegate.orchestrator.core import Orchestrator
    from phasegate.orchestrator.logs import CheckpointLog

    stream = io.StringIO()
    return Orchestrator(transition, firestore_client(project), expectations=expectations,
                        publish=publish, clock=clock or FakeClock(), timeout=timeout,
                        log=CheckpointLog(stream)), stream


def test_a_late_failed_delivery_never_overwrites_a_success(project_id):
    """The failed delivery read the document before the success was written: its write is
    conditional on that read, so it finds the success and stands down."""
    expectations = _expectations("nba")
    failing, _ = _orchestrator(project_id, expectations)
    succeeding, _ = _orchestrator(project_id, expectations)
    stale = failing.store.read("2026-02-09")  # read before the success lands
    succeeding.handle_push(push(completion("p2_a", status="success"), "ok-1"))
    reads = iter([stale])
    real_read = failing.store.read
    failing.store.read = lambda run_key: next(reads, None) or real_read(run_key)
    outcome = failing.handle_push(push(completion("p2_a", status="failed"), "fail-1"))
    assert "RECORDED" not in outcome.checkpoints and "DUPLICATE" in outcome.checkpoints
    document = _document(project_id, "nba_phase2", "2026-02-09").to_dict()
    assert document["p2_a"]["status"] == "success"


def test_contention_aborted_is_never_taken_for_already_recorded(project_id):
    from google.api_core import exceptions

    expectations = _expectations("nba")
    orchestrator, _ = _orchestrator(project_id, expectations)
    client = orchestrator.store.client
    real_batch = client.batch

    class Aborting:
        def __init__(self) -> None:
            self.batch = real_batch()

        def __getattr__(self, name):
            return getattr(self.batch, name)

        def commit(self, **kwargs):
            raise exceptions.Aborted("Too much contention on these documents")

    client.batch = Aborting
    with pytest.raises(StoreUnavailable):  # not acknowledged: Pub/Sub delivers again
        orchestrator.handle_push(push(completion("p2_a"), "m-1"))
    client.batch = real_batch
    outcome = orchestrator.handle_push(push(completion("p2_a"), "m-1"))  # the redelivery
    assert "RECORDED" in outcome.checkpoints


def test_text_fields_are_bounded_in_bytes_so_documents_stay_small(project_id):
    expectations = _expectations("nba")
    orchestrator, _ = _orchestrator(project_id, expectations)
    emoji = "\U0001F600" * 200  # 200 characters, 800 bytes
    outcome = orchestrator.handle_push(push(completion("p2_a", correlation_id=emoji), "e-1"))
    assert outcome.checkpoints == ["REJECTED"]
    widest = {key: "x" * 512 for key in ("correlation_id", "execution_id", "output_table",
                                          "timestamp")}
    for index in range(130):  # the largest entries allowed, past the 100-name cap
        name = f"U{index:03d}" + "\U0001F600" * 250
        orchestrator.handle_push(push(completion(name, **widest), f"u-{index}"))
    outcomes = [orchestrator.handle_push(push(completion(name), f"real-{name}"))
                for name in ("p2_a", "p2_b")]
    assert [o.triggered_now for o in outcomes] == [False, True]  # later completions still fire
    document = _document(project_id, "nba_phase2", "2026-02-09").to_dict()
    assert len(json.dumps(document, default=str, ensure_ascii=False).encode()) < 700_000
    assert len(document["_unknown"]) == 100 and document["_unknown_count"] == 130


def test_a_replay_after_adding_the_alias_is_recorded(project_id):
    """Recorded under _unknown first; after the alias is added and deployed, Pub/Sub's
    replay of the same message counts it."""
    before, _ = _orchestrator(project_id, _expectations("nba"))
    message = push(completion("GamebookProcessor"), "replayed-1")
    assert before.handle_push(message).checkpoints[-1] == "UNKNOWN_PROCESSOR"
    after, _ = _orchestrator(project_id, _expectations("nba", aliases=", aliases: "
                                                       "[GamebookProcessor]"))
    outcome = after.handle_push(message)
    assert "RECORDED" in outcome.checkpoints
    document = _document(project_id, "nba_phase2", "2026-02-09").to_dict()
    assert document["p2_a"]["message_id"] == "replayed-1"


def test_names_with_double_underscores_never_share_a_marker(project_id):
    published: list[str] = []

    def publish(topic, data, attributes):
        published.append(topic)
        return str(len(published))

    first, _ = _orchestrator(project_id, _expectations("nba", "stats__p3"), "stats__p3",
                             publish=publish)
    second, _ = _orchestrator(project_id, _expectations("nba__stats", "p3"), "p3",
                              publish=publish)
    for orchestrator in (first, second):
        for name in ("p2_a", "p2_b"):
            orchestrator.handle_push(push(completion(name), f"{name}-shared-topic"))
    assert published == ["nba-phase3", "nba__stats-phase3"]


def test_a_slow_publish_leaves_the_finish_its_own_budget(project_id):
    import time

    published: list[str] = []

    def slow(topic, data, attributes):
        time.sleep(1.2)  # longer than the whole Firestore budget below
        published.append(topic)
        return "1"

    orchestrator, stream = _orchestrator(project_id, _expectations("nba"), publish=slow,
                                         timeout=1.0)
    orchestrator.handle_push(push(completion("p2_a"), "a"))
    outcome = orchestrator.handle_push(push(completion("p2_b"), "b"))
    assert outcome.triggered_now and published == ["nba-phase3"]
    assert "STORE_UNAVAILABLE" not in stream.getvalue()


def test_the_mode_that_fired_is_recorded(project_id):
    modes = ("    modes:\n      same_day: {when: today, expects: [p2_a]}\n"
             "      overnight: {when: before_today, expects: all}\n")
    expectations = _expectations("nba", modes=modes)
    evening = FakeClock(dt.datetime(2026, 2, 10, 3, 30, tzinfo=dt.UTC))  # 22:30 in New York
    orchestrator, _ = _orchestrator(project_id, expectations, clock=evening)
    assert orchestrator.handle_push(push(completion("p2_a"), "a")).triggered_now
    evening.advance(hours=10)  # the next morning: overnight mode, one firing per run key
    outcome = orchestrator.handle_push(push(completion("p2_b"), "b"))
    assert outcome.checkpoints[-1] == "ALREADY_TRIGGERED"
    document = _document(project_id, "nba_phase2", "2026-02-09").to_dict()
    assert document["_trigger_mode"] == "same_day" and document["_trigger_completed"] == ["p2_a"]


def test_rejections_of_one_message_by_two_functions_are_both_kept(project_id):
    from phasegate.orchestrator.store import safe_document_id

    assert safe_document_id("sha256-" + "0" * 64) != "sha256-" + "0" * 64  # hashed too
    for transition in ("one", "two"):
        orchestrator, _ = _orchestrator(project_id, _expectations("nba", transition), transition)
        orchestrator.handle_push({"message": {"messageId": "m-1", "data": _b64(b"not json")}})
    stored = list(firestore_client(project_id).collection("phasegate_rejected").stream())
    assert sorted(s.to_dict()["transition"] for s in stored) == ["one", "two"]
