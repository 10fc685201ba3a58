"""The BigQuery mirror against the real emulators (Firestore, Pub/Sub, bqemulator).

Rows arrive for completions and firings; a table or dataset missing, BigQuery
unreachable (a stopped emulator) or a row refused is a MIRROR_FAILED line and
``_mirror_failures`` on the document, and recording and firing go on as without
a mirror; the canary reports MIRROR_FAILED.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest

from phasegate.mirror.rows import schema_fields
from phasegate.mirror.sender import MirrorSender
from phasegate.orchestrator.core import Orchestrator
from phasegate.orchestrator.logs import CheckpointLog
from phasegate.runtime import Expectations
from tests.orchestrator_helpers import (
    PHASE3,
    REFERENCE,
    FakeClock,
    checkpoints,
    completion,
    firestore_client,
    push,
)

pytestmark = pytest.mark.usefixtures("emulators")
TRANSITION = "phase3_to_phase4"
COLLECTION = "phase3_completion"


def create_table(client, table: str, schema=None) -> None:
    from google.cloud import bigquery

    project, dataset, _ = table.split(".")
    client.create_dataset(f"{project}.{dataset}", exists_ok=True)
    fields = schema or [bigquery.SchemaField.from_api_repr(f) for f in schema_fields()]
    client.create_table(bigquery.Table(table, schema=fields))


def query(client, table: str) -> list[dict]:
    return [dict(row.items()) for row in client.query(
        f"SELECT * FROM `{table}` ORDER BY at_ts, event").result(timeout=30)]


def mirrored(project: str, sender: MirrorSender, clock: FakeClock | None = None):
    import io

    expectations = Expectations({**REFERENCE.data,
                                 "mirror": {"bigquery": {"table": sender.table}}})
    stream = io.StringIO()
    published: list[dict] = []

    def publish(topic, data, attributes):
        published.append(attributes)
        return f"pub-{len(published)}"

    orchestrator = Orchestrator(TRANSITION, firestore_client(project), expectations=expectations,
                                clock=clock or FakeClock(), project=project, publish=publish,
                                log=CheckpointLog(stream, project=project), mirror=sender)
    return orchestrator, stream, published


def deliver_all(orchestrator: Orchestrator, clock: FakeClock, run_key: str = "2026-02-09"):
    outcomes = []
    for index, name in enumerate(PHASE3):
        clock.advance(minutes=5)
        outcomes.append(orchestrator.handle_push(push(completion(name, run_key), f"m{index}")))
    assert orchestrator.settle_mirror(30)
    return outcomes


def document(project: str, run_key: str = "2026-02-09") -> dict:
    return firestore_client(project).collection(COLLECTION).document(run_key).get().to_dict()


def test_completions_and_the_firing_are_mirrored(project_id, bigquery):
    client = bigquery.client()
    table = f"{bigquery.project}.m_{uuid.uuid4().hex[:8]}.phase_completions"
    create_table(client, table)
    clock = FakeClock()
    orchestrator, stream, published = mirrored(project_id, MirrorSender(table, client), clock)
    outcomes = deliver_all(orchestrator, clock)
    assert outcomes[-1].triggered_now and len(published) == 1
    found = query(client, table)
    completions = [r for r in found if r["event"] == "completion"]
    assert [r["processor"] for r in completions] == [
        "player_game_summary", "team_offense_game_summary", "team_defense_game_summary",
        "upcoming_player_game_context", "upcoming_team_game_context"]
    assert {r["status"] for r in completions} == {"success"}
    assert [r["message_id"] for r in completions] == [f"m{i}" for i in range(5)]
    firing = [r for r in found if r["event"] == "firing"]
    assert len(firing) == 1
    assert firing[0]["state"] == "TRIGGERED" and firing[0]["reason"] == "all_complete"
    assert firing[0]["trigger_id"] == f"{TRANSITION}/2026-02-09"
    assert firing[0]["at_ts"] == clock.now
    assert firing[0]["registry_digest"] == REFERENCE.registry_digest
    assert "MIRROR_FAILED" not in {c["checkpoint"] for c in checkpoints(stream)}
    assert "_mirror_failures" not in document(project_id)


def test_a_redelivery_sends_the_same_row_again(project_id, bigquery):
    """bqemulator keeps both copies (it ignores insert ids): BigQuery drops the second."""
    from phasegate.mirror.rows import insert_id

    client = bigquery.client()
    table = f"{bigquery.project}.m_{uuid.uuid4().hex[:8]}.phase_completions"
    create_table(client, table)
    clock = FakeClock()
    orchestrator, _, _ = mirrored(project_id, MirrorSender(table, client), clock)
    orchestrator.handle_push(push(completion(PHASE3[0]), "same"))
    clock.advance(minutes=3)
    outcome = orchestrator.handle_push(push(completion(PHASE3[0]), "same"))
    assert "DUPLICATE" in outcome.checkpoints
    orchestrator.settle_mirror(30)
    found = query(client, table)
    assert len(found) == 2
    as_sent = [{**r, "at_ts": r["at_ts"].isoformat().replace("+00:00", "Z")} for r in found]
    assert as_sent[0] == as_sent[1]
    assert insert_id(as_sent[0]) == insert_id(as_sent[1]) == (
        f"completion/{TRANSITION}/2026-02-09/player_game_summary/same")


def _failing_case(project_id, sender, expected_words):
    clock = FakeClock()
    orchestrator, stream, published = mirrored(project_id, sender, clock)
    started = time.monotonic()
    outcomes = deliver_all(orchestrator, clock)
    assert time.monotonic() - started < 60  # bounded: no hang
    # Firestore recording and firing as without a mirror
    assert [o.checkpoint for o in outcomes[:-1]] == ["WAITING"] * 4
    assert outcomes[-1].triggered_now and len(published) == 1
    data = document(project_id)
    assert data["_triggered"] is True
    assert all(data[name]["status"] == "success" for name in (
        "player_game_summary", "upcoming_team_game_context"))
    failed = [c for c in checkpoints(stream) if c["checkpoint"] == "MIRROR_FAILED"]
    assert len(failed) == 5  # one per delivery (the last one's rows: completion and firing)
    assert data["_mirror_failures"] == 6  # the rows lost: five completions and the firing
    assert all(c["severity"] == "WARNING" and c["table"] == sender.table for c in failed)
    assert any(word in failed[0]["message"] for word in expected_words), failed[0]["message"]
    assert "firing" in failed[-1]["message"]
    return data


def test_table_missing(project_id, bigquery):
    client = bigquery.client()
    dataset = f"{bigquery.project}.m_{uuid.uuid4().hex[:8]}"
    client.create_dataset(dataset)
    _failing_case(project_id, MirrorSender(f"{dataset}.absent", client), ["not found"])


def test_dataset_missing(project_id, bigquery):
    client = bigquery.client()
    _failing_case(project_id, MirrorSender(f"{bigquery.project}.no_such_dataset.t", client),
                  ["not found"])


def test_row_rejected(project_id, bigquery):
    """A table whose at_ts is not a TIMESTAMP: BigQuery refuses every row."""
    from google.cloud import bigquery as bq

    client = bigquery.client()
    table = f"{bigquery.project}.m_{uuid.uuid4().hex[:8]}.wrong_schema"
    create_table(client, table, [bq.SchemaField("event", "STRING"),
                                 bq.SchemaField("at_ts", "INTEGER")])
    _failing_case(project_id, MirrorSender(table, client, timeout=1.0),
                  ["rejected", "unavailable"])


def test_bigquery_unavailable_a_stopped_emulator(project_id, tmp_path):
    from tests.bq_emulator import start_bqemulator

    emulator = start_bqemulator(tmp_path)
    client = emulator.client()
    emulator.stop()
    data = _failing_case(project_id, MirrorSender("phasegate-test.d.t", client, timeout=1.0),
                         ["unavailable"])
    # the canary reports it: a warning beside the state
    from phasegate.canary.evaluate import Settings, evaluate

    settings = Settings({**REFERENCE.data, "canary": {"lookback_days": 3}})
    checks = evaluate(TRANSITION, "2026-02-09", data,
                      dt.datetime(2026, 2, 10, 16, 0, tzinfo=dt.UTC), settings)
    states = {c.state: c for c in checks}
    assert states["TRIGGERED"].alerting is False
    assert states["MIRROR_FAILED"].alerting is True
    assert "6 row(s)" in states["MIRROR_FAILED"].detail


def test_without_a_mirror_nothing_changes(project_id):
    """Same Firestore calls as before the mirror existed, and no mirror at all."""
    import io

    clock = FakeClock()
    orchestrator = Orchestrator(TRANSITION, firestore_client(project_id), expectations=REFERENCE,
                                clock=clock, project=project_id,
                                publish=lambda *a: "id", log=CheckpointLog(io.StringIO()))
    assert orchestrator.mirror is None
    orchestrator.handle_push(push(completion(PHASE3[0]), "x1"))
    assert "mirror_writes" not in orchestrator.store.calls
