"""Whole canary runs against the Firestore emulator, with local Slack and webhook servers."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import threading

import pytest

from phasegate.canary.evaluate import Settings
from phasegate.canary.run import EXIT_ALERTING, EXIT_FAILED, EXIT_OK, run_once
from phasegate.canary.store import CanaryStore
from tests.conftest import REPO, run_phasegate
from tests.http_server import endpoint
from tests.orchestrator_helpers import firestore_client

pytestmark = pytest.mark.usefixtures("emulators")
EXPECTED = json.loads((REPO / "canary" / "expected.json").read_text())
PHASE2 = EXPECTED["transitions"]["phase2_to_phase3"]["expected"]
T0 = dt.datetime(2026, 2, 10, 7, 0, tzinfo=dt.UTC)  # 02:00 in New York
FIRST = dt.datetime(2026, 2, 10, 2, 0, tzinfo=dt.UTC)


def make_settings(notify, **canary) -> Settings:
    data = copy.deepcopy(EXPECTED)
    data["canary"].update(notify=notify, **canary)
    return Settings(data)


def seed_late(project, run_key="2026-02-09", names=PHASE2[:-1]):
    body = {n: {"status": "success", "completed_at": FIRST} for n in names}
    body.update(_first_completion_at=FIRST, _registry_digest=EXPECTED["registry_digest"])
    firestore_client(project).collection("phase2_completion").document(run_key).set(body)


def run(project, settings, now, **kwargs):
    store = CanaryStore(firestore_client(project), timeout=kwargs.pop("timeout", 30),
                        pipeline="nba-stats")
    return run_once(store, settings, now, stream=io.StringIO(), sleep=lambda s: None,
                    **kwargs), store


def kinds(server):
    return [(n["kind"], n["state"]) for body in server.delivered() for n in body["notifications"]]


def test_open_then_quiet_then_renotify_then_resolve(project_id, monkeypatch):
    with endpoint() as hook:
        monkeypatch.setenv("TEST_HOOK", hook.url)
        settings = make_settings([{"webhook": {"url_env": "TEST_HOOK"}}])
        seed_late(project_id)
        first, store = run(project_id, settings, T0)
        assert first.exit_code == EXIT_ALERTING
        assert kinds(hook) == [("open", "LATE")]
        body = hook.delivered()[0]
        assert body["source"] == "phasegate"
        assert body["notifications"][0]["dedup_key"] == "phase2_to_phase3/2026-02-09/LATE"
        quiet, _ = run(project_id, settings, T0 + dt.timedelta(hours=1))
        assert quiet.exit_code == EXIT_ALERTING and quiet.deliveries == []
        again, _ = run(project_id, settings, T0 + dt.timedelta(hours=6))
        assert kinds(hook)[-1] == ("renotify", "LATE")
        firestore_client(project_id).collection("phase2_completion").document(
            "2026-02-09").set({PHASE2[-1]: {"status": "success", "completed_at": T0},
                               "_triggered": True}, merge=True)
        resolved, _ = run(project_id, settings, T0 + dt.timedelta(hours=7))
        assert resolved.exit_code == EXIT_OK
        assert kinds(hook) == [("open", "LATE"), ("renotify", "LATE"), ("resolve", "LATE")]
        assert len(hook.received) == 3  # one POST per run that had something to say


def test_firestore_calls_per_run_do_not_grow_with_the_lookback(project_id):
    for lookback in (3, 7):
        settings = make_settings([{"log": {}}], lookback_days=lookback)
        result, store = run(project_id, settings, T0)
        assert dict(store.calls) == {"reads": 2, "commits": 1}, lookback
        assert len(result.checks) == 2 * (lookback + 2)


def test_two_runs_at_the_same_moment_notify_once(project_id, monkeypatch):
    with endpoint() as hook:
        monkeypatch.setenv("TEST_HOOK", hook.url)
        settings = make_settings([{"webhook": {"url_env": "TEST_HOOK"}}])
        seed_late(project_id)
        barrier = threading.Barrier(2)
        results = []

        def one_run():
            store = CanaryStore(firestore_client(project_id), pipeline="nba-stats")
            documents = store.read_documents  # read, then wait so both decide on the same data

            def synchronized(wanted):
                found = documents(wanted)
                barrier.wait(timeout=30)
                return found

            store.read_documents = synchronized
            results.append(run_once(store, settings, T0, stream=io.StringIO()))

        threads = [threading.Thread(target=one_run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert [r.exit_code for r in results] == [EXIT_ALERTING, EXIT_ALERTING]
        assert kinds(hook) == [("open", "LATE")]


def test_slack_500_then_200_and_429_with_retry_after_deliver_once(project_id, monkeypatch):
    with endpoint() as slack:
        monkeypatch.setenv("TEST_SLACK", slack.url)
        settings = make_settings([{"slack": {"url_env": "TEST_SLACK"}}])
        seed_late(project_id)
        slack.answer(500, (429, {"Retry-After": "1"}))
        waits = []
        store = CanaryStore(firestore_client(project_id), pipeline="nba-stats")
        result = run_once(store, settings, T0, stream=io.StringIO(), sleep=waits.append)
        assert result.exit_code == EXIT_ALERTING and result.errors == []
        assert len(slack.received) == 3 and len(slack.delivered()) == 1
        assert waits[-1] == 1.0  # honoured Retry-After
        message = slack.delivered()[0]
        sections = [b for b in message["blocks"] if b["type"] == "section"]
        assert len(sections) == 1 and "*LATE*" in sections[0]["text"]["text"]
        assert f"`{PHASE2[-1]}`: enabled" in sections[0]["text"]["text"]


def test_undeliverable_notification_is_kept_and_retried_next_run(project_id, monkeypatch):
    with endpoint() as slack:
        monkeypatch.setenv("TEST_SLACK", slack.url)
        settings = make_settings([{"slack": {"url_env": "TEST_SLACK"}}, {"log": {}}])
        seed_late(project_id)
        slack.answer(503, 503, 503)
        stream = io.StringIO()
        store = CanaryStore(firestore_client(project_id), pipeline="nba-stats")
        failed = run_once(store, settings, T0, stream=stream, sleep=lambda s: None)
        assert failed.exit_code == EXIT_FAILED
        assert "delivery failed" in failed.errors[0]
        logged = [json.loads(line) for line in stream.getvalue().splitlines()]
        assert any("CANARY_ERROR" in line["message"] for line in logged)  # told the log
        assert slack.delivered() == []
        retried, _ = run(project_id, settings, T0 + dt.timedelta(minutes=15))
        assert retried.exit_code == EXIT_ALERTING
        assert len(slack.delivered()) == 1  # the kept "open", delivered once
        later, _ = run(project_id, settings, T0 + dt.timedelta(minutes=30))
        assert len(slack.delivered()) == 1 and later.deliveries == []


def test_firestore_unreadable_exits_3_and_says_so(project_id, monkeypatch, tmp_path):
    from tests.emulators import Emulator, require_sdk

    own = Emulator("firestore", require_sdk()).start(tmp_path)
    own.stop()  # nothing listens on its port now
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", own.host)
    with endpoint() as hook:
        monkeypatch.setenv("TEST_HOOK", hook.url)
        settings = make_settings([{"webhook": {"url_env": "TEST_HOOK"}}])
        result, _ = run(project_id, settings, T0, timeout=3)
        assert result.exit_code == EXIT_FAILED
        assert "could not read Firestore" in result.errors[0]
        assert kinds(hook) == [("open", "CANARY_ERROR")]


def test_command_line_run_json_and_heartbeat(project_id, emulators):
    env = {"GOOGLE_CLOUD_PROJECT": project_id,
           "FIRESTORE_EMULATOR_HOST": emulators["firestore"]}
    seed_late(project_id)
    with endpoint() as slack:
        env["SLACK_WEBHOOK_URL"] = slack.url
        dry = run_phasegate("canary", "run", "--once", "--now", "2026-02-10T07:00:00+00:00",
                            "--format", "json", "--dry-run", env=env)
        assert dry.returncode == 1, dry.stderr
        assert slack.received == []
        result = run_phasegate("canary", "run", "--once", "--now", "2026-02-10T07:00:00+00:00",
                               "--format", "json", "--record", env=env)
        assert result.returncode == 1, result.stderr
        document = json.loads(result.stdout)
        late = [c for c in document["checks"] if c["state"] == "LATE"]
        assert late[0]["missing"][0]["name"] == PHASE2[-1]
        assert {n["channel"] for n in document["notifications"]} == {
            "slack:SLACK_WEBHOOK_URL", "log"}
        assert all(n["delivered"] for n in document["notifications"])
        assert len(slack.delivered()) == 1
    fresh = run_phasegate("canary", "heartbeat", "--max-age", "45m", "--now",
                          "2026-02-10T07:30:00+00:00", env=env)
    assert fresh.returncode == 0, fresh.stderr
    stale = run_phasegate("canary", "heartbeat", "--max-age", "45m", "--now",
                          "2026-02-10T08:00:00+00:00", env=env)
    assert stale.returncode == 1
    explained = run_phasegate("explain", "phase2_to_phase3", "2026-02-09", "--now",
                              "2026-02-10T07:00:00+00:00", env=env)
    assert explained.returncode == 0, explained.stderr
    assert "LATE" in explained.stdout and PHASE2[-1] in explained.stdout
    assert "incident open since" in explained.stdout


def test_auto_heal_fires_a_late_transition_once_with_deadline_partial(project_id):
    from tests.orchestrator_helpers import create_trigger_subscription, drain

    subscription = create_trigger_subscription(project_id)
    settings = make_settings([{"log": {}}])
    settings.expectations["transitions"]["phase3_to_phase4"]["auto_heal"] = True
    body = {n: {"status": "success", "completed_at": FIRST}
            for n in ("player_game_summary", "upcoming_player_game_context",
                      "team_offense_game_summary")}
    body["_first_completion_at"] = FIRST
    firestore_client(project_id).collection("phase3_completion").document(
        "2026-02-08").set(body)
    healed, _ = run(project_id, settings, T0)
    [check] = [c for c in healed.checks if c.transition == "phase3_to_phase4"
               and c.run_key == "2026-02-08"]
    assert (check.state, check.alerting) == ("TRIGGERED", False)
    document = firestore_client(project_id).collection("phase3_completion").document(
        "2026-02-08").get().to_dict()
    assert document["_triggered"] is True
    assert document["_trigger_reason"] == "deadline_partial"
    [message] = drain(subscription)
    assert message["reason"] == "deadline_partial"
    again, _ = run(project_id, settings, T0 + dt.timedelta(minutes=15))
    [check] = [c for c in again.checks if c.transition == "phase3_to_phase4"
               and c.run_key == "2026-02-08"]
    assert check.state == "TRIGGERED" and "warning" in check.detail
    assert drain(subscription) == []


def test_auto_heal_waits_while_a_required_processor_is_missing(project_id):
    settings = make_settings([{"log": {}}])
    settings.expectations["transitions"]["phase3_to_phase4"]["auto_heal"] = True
    body = {"team_offense_game_summary": {"status": "success", "completed_at": FIRST},
            "_first_completion_at": FIRST}
    firestore_client(project_id).collection("phase3_completion").document(
        "2026-02-08").set(body)
    result, _ = run(project_id, settings, T0)
    [check] = [c for c in result.checks if c.transition == "phase3_to_phase4"
               and c.run_key == "2026-02-08"]
    assert (check.state, check.alerting) == ("LATE", True)
    document = firestore_client(project_id).collection("phase3_completion").document(
        "2026-02-08").get().to_dict()
    assert not document.get("_triggered")


def test_canary_http_entry_answers_with_the_run(project_id, monkeypatch):
    from phasegate.canary import function_handler

    monkeypatch.delenv("SLACK_WEBHOOK_URL", raising=False)
    canary_http = function_handler(REPO / "canary" / "expected.json",
                                   environ={"GOOGLE_CLOUD_PROJECT": project_id})
    body, status, headers = canary_http(None)  # nothing in Firestore: nothing to say
    document = json.loads(body)
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert document["errors"] == [] and document["notifications"] == []
    assert {c["transition"] for c in document["checks"]} == {"phase2_to_phase3",
                                                            "phase3_to_phase4"}
    today = dt.datetime.now(dt.UTC)
    run_key = (today - dt.timedelta(days=2)).date().isoformat()
    seed_late(project_id, run_key)
    body, status, _ = canary_http(None)  # LATE, and Slack's URL is not configured
    document = json.loads(body)
    assert status == 500
    assert any("SLACK_WEBHOOK_URL is not set" in error for error in document["errors"])
    assert any(n["channel"] == "log" and n["delivered"] for n in document["notifications"])


def test_two_pipelines_canaries_leave_each_others_incidents_alone(project_id):
    """Several pipelines in one project: each canary opens, keeps and resolves only its own
    incidents and writes its own heartbeat."""
    nba = make_settings([{"log": {}}])
    other = copy.deepcopy(EXPECTED)
    other["pipeline"] = "mlb-stats"
    for spec in other["transitions"].values():
        spec["collection"] = "mlb_" + spec["collection"]
    other["canary"]["notify"] = [{"log": {}}]
    mlb = Settings(other)
    seed_late(project_id)
    first, _ = run(project_id, nba, T0)
    assert [d.notification.kind for d in first.deliveries] == ["open"]
    client = firestore_client(project_id)
    for hour in (1, 2):
        store = CanaryStore(client, pipeline="mlb-stats")
        theirs = run_once(store, mlb, T0 + dt.timedelta(hours=hour), stream=io.StringIO(),
                          sleep=lambda s: None)
        assert theirs.deliveries == [] and theirs.exit_code == EXIT_OK
        ours, _ = run(project_id, nba, T0 + dt.timedelta(hours=hour))
        assert ours.deliveries == []  # still open: neither reopened nor resolved
    beats = {snapshot.id: snapshot.to_dict()["pipeline"]
             for snapshot in client.collection("phasegate_canary").stream()}
    assert beats == {"heartbeat__nba-stats": "nba-stats", "heartbeat__mlb-stats": "mlb-stats"}


def test_a_run_that_cannot_read_firestore_still_writes_its_heartbeat_line(
        project_id, monkeypatch, tmp_path):
    """The absence alert counts heartbeat lines: a canary that ran and failed to read says
    so (outcome error) instead of looking dead."""
    from tests.emulators import Emulator, require_sdk

    own = Emulator("firestore", require_sdk()).start(tmp_path)
    own.stop()
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", own.host)
    stream = io.StringIO()
    store = CanaryStore(firestore_client(project_id), timeout=3, pipeline="nba-stats")
    result = run_once(store, make_settings([{"log": {}}]), T0, stream=stream,
                      sleep=lambda s: None)
    assert result.exit_code == EXIT_FAILED
    lines = [json.loads(x) for x in stream.getvalue().splitlines()]
    [beat] = [x for x in lines if x["message"].startswith("CANARY_HEARTBEAT")]
    assert beat["message"] == "CANARY_HEARTBEAT error"
    assert beat["logging.googleapis.com/labels"]["phasegate_pipeline"] == "nba-stats"
