"""Contention and outages: twenty processes at one instant; Firestore going away."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest

from tests.orchestrator_helpers import (
    PHASE3,
    REFERENCE,
    checkpoints,
    completion,
    create_trigger_subscription,
    drain,
    firestore_client,
    make_orchestrator,
    push,
)

pytestmark = pytest.mark.usefixtures("emulators")
RUN_KEYS = [f"2026-10-{day:02d}" for day in range(1, 31)]  # all before "today": overnight


def test_twenty_processes_at_one_instant_record_all_and_trigger_once(project_id):
    """The five phase 3 processors, each delivered by four processes, for 30 run keys."""
    from tests.contention_worker import deliver_all_at_once

    subscription = create_trigger_subscription(project_id)
    collected = deliver_all_at_once(project_id, [PHASE3[i % 5] for i in range(20)], RUN_KEYS)
    errors = [(index, error) for index, _, error in collected if error]
    assert errors == []
    outcomes = [o for _, worker_outcomes, _ in collected for o in worker_outcomes]
    assert len(outcomes) == 20 * 30
    triggers = Counter(run_key for run_key, _, triggered, _, _, _ in outcomes if triggered)
    assert triggers == dict.fromkeys(RUN_KEYS, 1)
    client = firestore_client(project_id)
    expected = set(REFERENCE.transitions["phase3_to_phase4"]["expected"])
    for run_key in RUN_KEYS:
        doc = client.collection("phase3_completion").document(run_key).get().to_dict()
        recorded = {k for k, v in doc.items() if not k.startswith("_") and
                    v.get("status") == "success"}
        assert recorded == expected, run_key
        assert doc["_triggered"] is True and doc["_trigger_pending"] is False
    messages = drain(subscription)
    assert sorted(m["trigger_id"] for m in messages) == [
        f"phase3_to_phase4/{run_key}" for run_key in RUN_KEYS]
    latencies = sorted(o[4] for o in outcomes)
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"\n20-way contention: {len(latencies)} deliveries, p50 {p50 * 1000:.0f} ms, "
          f"p99 {p99 * 1000:.0f} ms")


def test_firestore_outage_fails_the_delivery_with_one_line_and_the_redelivery_records(
        project_id, monkeypatch, tmp_path):
    from phasegate.orchestrator.store import StoreUnavailable
    from tests.emulators import Emulator, require_sdk

    own = Emulator("firestore", require_sdk()).start(tmp_path)
    try:
        monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", own.host)
        orchestrator, stream = make_orchestrator(project_id, "phase2_to_phase3")
        assert orchestrator.store.timeout < 8  # one budget for every call of a delivery
        orchestrator.handle_push(push(completion("NbacGamebookProcessor"), "m-1"))
        own.stop()
        event = push(completion("NbacPlayerBoxscoreProcessor"), "m-2")
        with pytest.raises(StoreUnavailable):
            orchestrator.handle_push(event)  # not acknowledged: Pub/Sub will redeliver
        [line] = [x for x in checkpoints(stream) if x["checkpoint"] == "STORE_UNAVAILABLE"]
        assert line["severity"] == "ERROR" and "Pub/Sub will deliver again" in line["message"]
        own.start(tmp_path)  # back, on the same port (the emulator keeps nothing)
        outcome = orchestrator.handle_push(event)  # the redelivery
        assert outcome.checkpoints[:2] == ["RECEIVED", "RECORDED"]
        doc = firestore_client(project_id).collection("phase2_completion").document(
            "2026-02-09").get().to_dict()
        assert doc["p2_nbacom_boxscores"]["message_id"] == "m-2"
    finally:
        own.stop()
