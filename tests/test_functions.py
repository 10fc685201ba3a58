"""The deployable folders under the real functions-framework, against the emulators."""

from __future__ import annotations

import json

from tests.conftest import REPO
from tests.functions_server import (
    emulator_env,
    post,
    post_binary_cloud_event,
    push_body,
    serve,
)
from tests.orchestrator_helpers import PHASE3, completion, drain


def _trigger_subscription(project: str, topic: str) -> str:
    from google.cloud import pubsub_v1

    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    topic_path = publisher.topic_path(project, topic)
    publisher.create_topic(name=topic_path)
    subscription = subscriber.subscription_path(project, f"{topic}-listener")
    subscriber.create_subscription(name=subscription, topic=topic_path)
    return subscription


def test_push_entry_fires_phase4_once_from_a_fresh_clone(project_id, tmp_path):
    subscription = _trigger_subscription(project_id, "nba-phase4-trigger")
    env = emulator_env(project_id, PHASEGATE_TRANSITION="phase3_to_phase4")
    with serve(REPO / "orchestrator" / "main.py", "on_push", "http", env,
               tmp_path / "server.log") as url:
        statuses = [post(url, push_body(completion(name), f"m-{name}")) for name in PHASE3]
        statuses.append(post(url, push_body(completion(PHASE3[-1]), f"m-{PHASE3[-1]}")))
        statuses.append(post(url, b""))  # an empty push body: stored and acknowledged
    assert statuses == [204] * (len(PHASE3) + 2)
    [message] = drain(subscription)
    assert message["trigger_id"] == "phase3_to_phase4/2026-02-09"
    lines = [json.loads(x) for x in (tmp_path / "server.log").read_text().splitlines()
             if x.startswith("{")]
    assert [x["checkpoint"] for x in lines].count("TRIGGER_PUBLISHED") == 1


def test_cloud_event_entry_accepts_binary_cloud_events(project_id, tmp_path):
    from google.cloud import firestore

    env = emulator_env(project_id, PHASEGATE_TRANSITION="phase2_to_phase3")
    with serve(REPO / "orchestrator" / "main.py", "on_completion", "cloudevent", env,
               tmp_path / "server.log") as url:
        status = post_binary_cloud_event(
            url, push_body(completion("NbacGamebookProcessor"), "ce-1"), "ce-1")
    assert status == 200, (tmp_path / "server.log").read_text()[-2000:]
    document = firestore.Client(project=project_id).collection("phase2_completion").document(
        "2026-02-09").get().to_dict()
    assert document["p2_nbacom_gamebook_pdf"]["message_id"] == "ce-1"


def test_a_function_without_its_transition_fails_at_cold_start(project_id, tmp_path):
    import pytest

    env = emulator_env(project_id)  # PHASEGATE_TRANSITION missing
    with pytest.raises(RuntimeError, match="functions-framework exited") as raised, serve(
            REPO / "orchestrator" / "main.py", "on_push", "http", env, tmp_path / "server.log"):
        pass
    assert "COLD_START_FAILED" in str(raised.value)
    assert "PHASEGATE_TRANSITION is not set" in str(raised.value)


def test_canary_entry_serves_the_run_as_json(project_id, tmp_path):
    import urllib.request

    env = emulator_env(project_id)
    with serve(REPO / "canary" / "main.py", "canary_http", "http", env,
               tmp_path / "server.log") as url, urllib.request.urlopen(
            urllib.request.Request(url, data=b"", method="POST"), timeout=60) as response:
        run = json.loads(response.read())
    assert response.status == 200
    assert {c["transition"] for c in run["checks"]} == {"phase2_to_phase3", "phase3_to_phase4"}


def _unreachable_firestore_env(**extra: str) -> dict[str, str]:
    """A served function whose Firestore is a loopback port where nothing listens."""
    from phasegate.scenario.emulators import free_port

    return emulator_env("test-unreachable", FIRESTORE_EMULATOR_HOST=f"127.0.0.1:{free_port()}",
                        **extra)


def _checkpoint_lines(log_text: str) -> list[dict]:
    return [json.loads(x) for x in log_text.splitlines() if x.startswith("{")]


def test_push_entry_answers_an_unreachable_firestore_quietly_with_503(tmp_path):
    env = _unreachable_firestore_env(PHASEGATE_TRANSITION="phase2_to_phase3")
    with serve(REPO / "orchestrator" / "main.py", "on_push", "http", env,
               tmp_path / "server.log") as url:
        status = post(url, push_body(completion("NbacGamebookProcessor"), "m-1"))
    log = (tmp_path / "server.log").read_text()
    assert status == 503, log[-2000:]  # not acknowledged: Pub/Sub delivers again
    assert [x["checkpoint"] for x in _checkpoint_lines(log)].count("STORE_UNAVAILABLE") == 1
    assert "Traceback" not in log, log[-3000:]


def test_cloud_event_entry_answers_an_unreachable_firestore_quietly_with_503(tmp_path):
    env = _unreachable_firestore_env(PHASEGATE_TRANSITION="phase2_to_phase3")
    with serve(REPO / "orchestrator" / "main.py", "on_completion", "cloudevent", env,
               tmp_path / "server.log") as url:
        status = post_binary_cloud_event(
            url, push_body(completion("NbacGamebookProcessor"), "ce-1"), "ce-1")
    log = (tmp_path / "server.log").read_text()
    assert status == 503, log[-2000:]
    assert [x["checkpoint"] for x in _checkpoint_lines(log)].count("STORE_UNAVAILABLE") == 1
    assert "Traceback" not in log, log[-3000:]


def test_push_entry_without_credentials_answers_503_in_one_line(tmp_path):
    """No Google credentials at all: a STORE_UNAVAILABLE line and a retry, no traceback."""
    env = {k: v for k, v in emulator_env("test-nocreds", PHASEGATE_TRANSITION="phase2_to_phase3"
                                         ).items() if k != "FIRESTORE_EMULATOR_HOST"}
    env["HOME"] = str(tmp_path)  # no application-default credentials there
    env["CLOUDSDK_CONFIG"] = str(tmp_path / "gcloud")
    with serve(REPO / "orchestrator" / "main.py", "on_push", "http", env,
               tmp_path / "server.log") as url:
        status = post(url, push_body(completion("NbacGamebookProcessor"), "m-1"))
    log = (tmp_path / "server.log").read_text()
    assert status == 503, log[-2000:]
    [line] = [x for x in _checkpoint_lines(log) if x["checkpoint"] == "STORE_UNAVAILABLE"]
    assert "no Firestore client (DefaultCredentialsError" in line["message"]
    assert "Traceback" not in log, log[-3000:]


def test_push_entry_answers_a_get_with_405_and_stores_nothing(project_id, emulators, tmp_path):
    """A probe or a browser is never a delivery: no rejection stored, no ERROR line."""
    import urllib.error
    import urllib.request

    from tests.orchestrator_helpers import firestore_client

    env = emulator_env(project_id, FIRESTORE_EMULATOR_HOST=emulators["firestore"],
                       PHASEGATE_TRANSITION="phase2_to_phase3")
    with serve(REPO / "orchestrator" / "main.py", "on_push", "http", env,
               tmp_path / "server.log") as url:
        for path in ("", "status"):  # (functions-framework answers /favicon.ico itself)
            try:
                urllib.request.urlopen(url.rstrip("/") + "/" + path, timeout=30)
                status = 200
            except urllib.error.HTTPError as error:
                status = error.code
            assert status == 405, path
    assert list(firestore_client(project_id).collection("phasegate_rejected").stream()) == []
    assert "REJECTED" not in (tmp_path / "server.log").read_text()
