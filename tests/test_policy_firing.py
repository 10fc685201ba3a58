"""Policies and targets on the Firestore and Pub/Sub emulators: tiers, HTTP, fan-out, manual.

Every firing goes through the orchestrator's one exactly-once path, whether a
delivery, the canary's schedule or a person starts it.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from phasegate.orchestrator.core import Orchestrator, TriggerPublishFailed
from phasegate.orchestrator.logs import CheckpointLog
from phasegate.runtime import Expectations
from tests.orchestrator_helpers import (
    PHASE3,
    REFERENCE,
    FakeClock,
    checkpoints,
    completion,
    firestore_client,
)

TRANSITION = "phase3_to_phase4"
RUN_KEY = "2026-02-09"
CANONICAL = sorted(REFERENCE.transition(TRANSITION)["expected"])


def expectations(**changes: Any) -> Expectations:
    """The reference expectations with phase3_to_phase4 changed (as a registry would say)."""
    data = copy.deepcopy(dict(REFERENCE.data))
    spec = data["transitions"][TRANSITION]
    spec.setdefault("policy", [])
    spec.setdefault("target", None)
    if "policy" in changes or "required" in changes:
        # with a policy, an absent `required` means none; a written one applies to each mode
        required = changes.get("required", [])
        spec["required"] = required
        for mode in spec["modes"].values():
            mode["required"] = [n for n in required if n in mode["expected"]]
    spec.update(changes)
    return Expectations(data, "test")


class Published:
    """An injected Pub/Sub publisher: records, and fails on the calls it is told to."""

    def __init__(self, fail_on: set[int] | None = None) -> None:
        self.messages: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.fail_on = fail_on or set()
        self.calls = 0

    def __call__(self, topic: str, data: bytes, attributes: dict[str, str]) -> str:
        self.calls += 1
        if self.calls in self.fail_on:
            raise RuntimeError("publish failed")
        self.messages.append((topic, json.loads(data), attributes))
        return f"m{len(self.messages)}"


def orchestrator(project: str, data: Expectations, clock: FakeClock, **kwargs: Any,
                 ) -> tuple[Orchestrator, io.StringIO]:
    stream = io.StringIO()
    return Orchestrator(TRANSITION, firestore_client(project), expectations=data, clock=clock,
                        project=project, log=CheckpointLog(stream, project=project),
                        **kwargs), stream


def deliver(orch: Orchestrator, names: list[str], clock: FakeClock, minutes: float = 1) -> None:
    for name in names:
        orch.handle(_completion(name))
        clock.advance(minutes=minutes)


def _completion(name: str) -> Any:
    from phasegate.orchestrator.messages import parse_completion

    return parse_completion(json.dumps(completion(name, RUN_KEY)).encode(), None)


def document(project: str) -> dict[str, Any]:
    snapshot = firestore_client(project).collection("phase3_completion").document(RUN_KEY).get()
    return snapshot.to_dict() or {}


TIERS = [{"after": "30m", "min": 4}, {"after": "2h", "min": 3}]


def canary_settings_with(data: Expectations) -> tuple[Any, Any]:
    """The reference canary's settings, and the same with phase3_to_phase4 as in ``data``."""
    from phasegate.canary.evaluate import Settings
    from phasegate.generation import canary_settings
    from phasegate.registry.loading import load_registry
    from tests.conftest import REPO

    loaded = load_registry(REPO / "registry" / "processors.yaml", "registry/processors.yaml")
    assert loaded.registry is not None
    base = canary_settings(loaded.registry, loaded.path, REPO)
    return base, Settings({**base.expectations, "transitions": {
        **base.expectations["transitions"], TRANSITION: data.transition(TRANSITION)}},
        base.calendar)


def test_a_tier_fires_on_a_delivery_once_it_is_due(project_id: str) -> None:
    clock = FakeClock()
    published = Published()
    orch, stream = orchestrator(project_id, expectations(policy=TIERS), clock, publish=published)
    deliver(orch, PHASE3[:4], clock)
    assert published.messages == []  # 4 of 5 within 30 minutes: not yet
    waiting = [c for c in checkpoints(stream) if c["checkpoint"] == "WAITING"][-1]
    assert waiting["message"].endswith(
        "next: tier 30m (at least 4) due 2026-02-10 15:30 UTC holds once due")
    clock.advance(minutes=30)
    # a delivery (the fifth processor reports a failure) finds the tier due and fires it
    from phasegate.orchestrator.messages import parse_completion

    outcome = orch.handle(parse_completion(json.dumps(
        completion(PHASE3[4], RUN_KEY, status="failed")).encode(), None))
    assert outcome.triggered_now and outcome.reason == "tier:30m"
    [(topic, body, attributes)] = published.messages
    assert topic == "nba-phase4-trigger"
    assert body["reason"] == "tier:30m"
    assert attributes["trigger_id"] == body["trigger_id"] == f"{TRANSITION}/{RUN_KEY}"
    assert document(project_id)["_trigger_reason"] == "tier:30m"


def test_a_tier_fires_without_a_new_message_and_only_once(project_id: str) -> None:
    clock = FakeClock()
    published = Published()
    orch, _ = orchestrator(project_id, expectations(policy=TIERS), clock, publish=published)
    deliver(orch, PHASE3[:3], clock)
    day = dt.date.fromisoformat(RUN_KEY)
    clock.advance(minutes=100)  # 1h43 after the first: tier 2h not due
    assert not orch.fire_due(day).triggered_now
    clock.advance(minutes=20)
    assert orch.fire_due(day).triggered_now
    assert not orch.fire_due(day).triggered_now  # a second canary run
    deliver(orch, PHASE3[3:], clock)  # late completions after the firing
    assert [body["reason"] for _, body, _ in published.messages] == ["tier:2h"]


def test_a_required_processor_blocks_every_tier(project_id: str) -> None:
    clock = FakeClock()
    published = Published()
    required = ["upcoming_team_game_context"]
    data = expectations(policy=[*TIERS, {"after": "3h", "min": "required"}], required=required)
    orch, _ = orchestrator(project_id, data, clock, publish=published)
    names = [n for n in PHASE3 if n != "UpcomingTeamGameContextProcessor"]
    deliver(orch, names, clock)
    clock.advance(hours=10)
    outcome = orch.fire_due(dt.date.fromisoformat(RUN_KEY))
    assert not outcome.triggered_now and published.messages == []
    assert not document(project_id).get("_triggered")


def test_the_canary_fires_a_due_tier_and_says_so(project_id: str) -> None:
    """At one instant the policy comes before LATE: a tier that holds fires, not alerts."""
    from phasegate.canary.run import run_once
    from phasegate.canary.store import CanaryStore

    clock = FakeClock()
    data = expectations(policy=TIERS)
    orch, _ = orchestrator(project_id, data, clock, publish=Published())
    deliver(orch, PHASE3[:3], clock)
    base, settings = canary_settings_with(data)
    fired: list[tuple[str, str]] = []

    def heal(transition: str, run_key: str, now: dt.datetime) -> Any:
        fired.append((transition, run_key))
        return orch.fire_due(dt.date.fromisoformat(run_key), now)

    store = CanaryStore(firestore_client(project_id), pipeline="nba")
    plain = CanaryStore(firestore_client(project_id), pipeline="nba")
    without = run_once(plain, base, clock.now + dt.timedelta(minutes=60), heal=heal,
                       stream=io.StringIO(), dry_run=True)
    early = run_once(store, settings, clock.now + dt.timedelta(minutes=60), heal=heal,
                     stream=io.StringIO(), dry_run=True)
    assert early.calls == without.calls and early.calls.get("reads", 0) >= 1  # no read more
    early = run_once(store, settings, clock.now + dt.timedelta(minutes=60), heal=heal,
                     stream=io.StringIO())
    [check] = [c for c in early.checks if c.transition == TRANSITION and c.run_key == RUN_KEY]
    assert check.state == "WAITING" and "next: tier 2h" in check.detail and fired == []
    due = run_once(store, settings, clock.now + dt.timedelta(minutes=120), heal=heal,
                   stream=io.StringIO())
    [check] = [c for c in due.checks if c.transition == TRANSITION and c.run_key == RUN_KEY]
    assert (check.state, check.alerting) == ("TRIGGERED", False)
    assert "fired by the canary (tier:2h)" in check.detail
    assert fired == [(TRANSITION, RUN_KEY)]


def test_fan_out_sends_one_message_per_completed_processor_and_resumes(project_id: str,
                                                                       ) -> None:
    clock = FakeClock()
    template = {"game_date": "{run_key}", "source_table": "{processor}", "mode": "{mode}"}
    target = {"kind": "pubsub", "topic": "nba-phase4-trigger", "message": template,
              "each": "completed"}
    failing = Published(fail_on={3})
    orch, _ = orchestrator(project_id, expectations(target=target), clock, publish=failing)
    deliver(orch, PHASE3[:4], clock)
    with pytest.raises(TriggerPublishFailed):
        deliver(orch, PHASE3[4:], clock)
    assert len(failing.messages) == 2 and document(project_id).get("_trigger_pending")
    clock.advance(minutes=3)  # the redelivery, after the released claim
    orch.handle(_completion(PHASE3[4]))
    ids = [attributes["trigger_id"] for _, _, attributes in failing.messages]
    assert sorted(ids) == [f"{TRANSITION}/{RUN_KEY}/{name}" for name in CANONICAL]
    assert len(ids) == len(set(ids)) == 5  # none sent twice
    bodies = {body["source_table"]: body for _, body, _ in failing.messages}
    assert bodies[CANONICAL[0]] == {"game_date": RUN_KEY, "source_table": CANONICAL[0],
                                    "mode": "overnight"}
    assert document(project_id)["_triggered"] is True


class Recorder(BaseHTTPRequestHandler):
    answers: list[int] = []
    requests: list[tuple[dict[str, str], Any]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length))
        type(self).requests.append((dict(self.headers), body))
        status = type(self).answers.pop(0) if type(self).answers else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def http_target() -> Iterator[tuple[str, type[Recorder]]]:
    handler = type("Handler", (Recorder,), {"answers": [], "requests": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/predict?key=secret", handler
    finally:
        server.shutdown()
        server.server_close()


def test_http_target_gets_exactly_one_successful_post(project_id: str, http_target: Any,
                                                      ) -> None:
    url, handler = http_target
    handler.answers.extend([500])
    clock = FakeClock()
    target = {"kind": "http", "url_env": "COORDINATOR_URL", "audience_env": "COORDINATOR_AUD",
              "message": {"game_date": "{run_key}", "why": "{reason}"}, "each": None,
              "timeout_seconds": 5}
    orch, stream = orchestrator(
        project_id, expectations(target=target), clock,
        environ={"COORDINATOR_URL": url, "COORDINATOR_AUD": "https://coordinator"},
        token_provider=lambda audience: f"token-for-{audience}")
    deliver(orch, PHASE3[:4], clock)
    with pytest.raises(TriggerPublishFailed):
        deliver(orch, PHASE3[4:], clock)
    assert document(project_id).get("_trigger_pending") is True
    assert "secret" not in stream.getvalue()
    assert "secret" not in str(document(project_id).get("_trigger_error"))
    clock.advance(minutes=3)
    orch.handle(_completion(PHASE3[4]))  # the redelivery: 200
    orch.handle(_completion(PHASE3[0]))  # a late duplicate: nothing more
    assert orch.fire_due(dt.date.fromisoformat(RUN_KEY)).triggered_now is False
    assert len(handler.requests) == 2
    ids = {headers["Phasegate-Trigger-Id"] for headers, _ in handler.requests}
    assert ids == {f"{TRANSITION}/{RUN_KEY}"}
    assert handler.requests[-1][0]["Authorization"] == "Bearer token-for-https://coordinator"
    assert handler.requests[-1][1] == {"game_date": RUN_KEY, "why": "all_complete"}
    assert document(project_id)["_triggered"] is True


def test_manual_firing_once_then_refused(project_id: str) -> None:
    clock = FakeClock()
    published = Published()
    orch, _ = orchestrator(project_id, expectations(), clock, publish=published)
    deliver(orch, PHASE3[:2], clock)
    day = dt.date.fromisoformat(RUN_KEY)
    assert orch.fire_manual(day, "feed retired; go ahead").triggered_now
    assert not orch.fire_manual(day, "again").triggered_now
    deliver(orch, PHASE3[2:], clock)
    [(_, body, _)] = published.messages
    assert body["reason"] == "manual"
    stored = document(project_id)
    assert (stored["_trigger_reason"], stored["_trigger_note"]) == (
        "manual", "feed retired; go ahead")


def test_a_policy_adds_no_firestore_call_to_an_ordinary_completion(project_id: str) -> None:
    counts = []
    for data in (expectations(), expectations(policy=TIERS)):
        clock = FakeClock()
        orch, _ = orchestrator(project_id, data, clock, publish=Published())
        firestore_client(project_id).collection("phase3_completion").document(
            RUN_KEY).delete()
        orch.store.calls.clear()
        deliver(orch, PHASE3[:2], clock)
        counts.append(dict(orch.store.calls))
    assert counts[0] == counts[1] and sum(counts[0].values()) > 0


def test_the_fire_command_fires_once_then_refuses(project_id: str, emulators: Any) -> None:
    from tests.conftest import run_phasegate

    env = {"GOOGLE_CLOUD_PROJECT": project_id, "FIRESTORE_EMULATOR_HOST": emulators["firestore"]}
    collection = firestore_client(project_id).collection("phase2_completion")
    collection.document(RUN_KEY).set({"p2_nbacom_gamebook_pdf": {
        "status": "success", "completed_at": dt.datetime(2026, 2, 10, 3, 0, tzinfo=dt.UTC)}})
    first = run_phasegate("fire", "phase2_to_phase3", RUN_KEY, "--reason",
                          "feed retired for the day", env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith(f"fired phase2_to_phase3/{RUN_KEY} (reason manual: feed "
                                   "retired for the day); 1 complete, missing ")
    stored = collection.document(RUN_KEY).get().to_dict()
    assert (stored["_triggered"], stored["_trigger_reason"]) == (True, "manual")
    again = run_phasegate("fire", "phase2_to_phase3", RUN_KEY, "--reason", "again", env=env)
    assert again.returncode == 1 and "already fired" in again.stderr
    bad = run_phasegate("fire", "phase2_to_phase3", "yesterday", "--reason", "x", env=env)
    assert bad.returncode == 2 and "not a date" in bad.stderr
    empty = run_phasegate("fire", "phase2_to_phase3", RUN_KEY, "--reason", "  ", env=env)
    assert empty.returncode == 2 and "--reason must say why" in empty.stderr
    unknown = run_phasegate("fire", "phase9_to_phase10", RUN_KEY, "--reason", "x", env=env)
    assert unknown.returncode == 2 and "unknown transition" in unknown.stderr


def test_the_fire_command_sends_to_the_trigger_topic_once(project_id: str, emulators: Any,
                                                          ) -> None:
    from tests.conftest import run_phasegate
    from tests.orchestrator_helpers import create_trigger_subscription, drain

    subscription = create_trigger_subscription(project_id)
    env = {"GOOGLE_CLOUD_PROJECT": project_id, "FIRESTORE_EMULATOR_HOST": emulators["firestore"],
           "PUBSUB_EMULATOR_HOST": emulators["pubsub"]}
    fired = run_phasegate("fire", TRANSITION, RUN_KEY, "--reason", "go ahead", env=env)
    assert fired.returncode == 0, fired.stderr
    again = run_phasegate("fire", TRANSITION, RUN_KEY, "--reason", "again", env=env)
    assert again.returncode == 1
    [message] = drain(subscription)
    assert (message["reason"], message["trigger_id"]) == ("manual", f"{TRANSITION}/{RUN_KEY}")


def test_the_fire_command_exits_3_when_firestore_is_unreachable(tmp_path: Any,
                                                                 project_id: str) -> None:
    from tests.conftest import run_phasegate
    from tests.emulators import Emulator, require_sdk

    own = Emulator("firestore", require_sdk()).start(tmp_path)
    own.stop()
    result = run_phasegate("fire", "phase2_to_phase3", RUN_KEY, "--reason", "x",
                           env={"GOOGLE_CLOUD_PROJECT": project_id,
                                "FIRESTORE_EMULATOR_HOST": own.host})
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith("phasegate: error: cannot reach Firestore (")
    assert f"phase2_to_phase3/{RUN_KEY} was not fired" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_slow_fan_out_keeps_its_claim_and_a_redelivery_sends_nothing(project_id: str) -> None:
    """Five messages of 50 s each outlast one 2-minute lease: the owner renews it before each
    message, so a redelivery arriving at +2m50s finds the claim live and sends nothing."""
    from phasegate.orchestrator.core import TriggerInProgress

    target = {"kind": "pubsub", "topic": "nba-phase4-trigger", "message": None,
              "each": "completed"}
    data = expectations(target=target)
    sent: list[str] = []
    clock_a, clock_b = FakeClock(), FakeClock()
    waited: list[str] = []
    redelivery: dict[str, Orchestrator] = {}

    def slow_publish(topic: str, body: bytes, attributes: dict[str, str]) -> str:
        sent.append(attributes["trigger_id"])
        clock_a.advance(seconds=50)
        if len(sent) == 3:
            clock_b.now = clock_a.now + dt.timedelta(seconds=20)
            try:
                redelivery["b"].handle(_completion(PHASE3[4]))
            except TriggerInProgress:
                waited.append("in progress")
        return "a"

    def other_publish(topic: str, body: bytes, attributes: dict[str, str]) -> str:
        sent.append(attributes["trigger_id"])
        return "b"

    orch_a, _ = orchestrator(project_id, data, clock_a, publish=slow_publish)
    redelivery["b"], _ = orchestrator(project_id, data, clock_b, publish=other_publish)
    deliver(orch_a, PHASE3[:4], clock_a)
    orch_a.handle(_completion(PHASE3[4]))
    assert waited == ["in progress"]
    assert len(sent) == len(set(sent)) == 5, sorted(sent)


def test_an_owner_taken_over_between_messages_stops(project_id: str) -> None:
    """An owner whose claim was taken over (its lease ran out) sends nothing more."""
    from phasegate.orchestrator.core import TriggerInProgress

    target = {"kind": "pubsub", "topic": "nba-phase4-trigger", "message": None,
              "each": "completed"}
    data = expectations(target=target)
    sent: list[str] = []
    clock = FakeClock()

    def publish(topic: str, body: bytes, attributes: dict[str, str]) -> str:
        sent.append(attributes["trigger_id"])
        if len(sent) == 2:  # someone else owns the claim from here on
            firestore_client(project_id).collection("phasegate_triggers").document(
                _marker_id(project_id)).update({"owner": "another attempt"})
        return "a"

    orch, _ = orchestrator(project_id, data, clock, publish=publish)
    deliver(orch, PHASE3[:4], clock)
    with pytest.raises(TriggerInProgress):
        orch.handle(_completion(PHASE3[4]))
    assert len(sent) == 2


def _marker_id(project_id: str) -> str:
    [marker] = list(firestore_client(project_id).collection("phasegate_triggers").stream())
    return str(marker.id)


def test_the_canary_claims_with_the_real_clock_and_logs_where_it_logs(
        project_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The canary decides as of its evaluation time, but claims, leases and stamps at the
    clock's: a replay of an old moment (or a slow run) never takes an expired lease. The
    orchestrator's lines go to the canary's stream, so `--format json` stays JSON."""
    from phasegate.canary.run import run_once
    from phasegate.canary.store import CanaryStore
    from tests.orchestrator_helpers import create_trigger_subscription, drain

    subscription = create_trigger_subscription(project_id)
    clock = FakeClock()  # 2026-02-10: months before the real clock
    data = expectations(policy=TIERS)
    orch, _ = orchestrator(project_id, data, clock, publish=Published())
    deliver(orch, PHASE3[:3], clock)
    _, settings = canary_settings_with(data)
    stream = io.StringIO()
    capsys.readouterr()
    before = dt.datetime.now(dt.UTC)
    result = run_once(CanaryStore(firestore_client(project_id), pipeline="nba"), settings,
                      clock.now + dt.timedelta(hours=2), stream=stream)
    [check] = [c for c in result.checks if c.transition == TRANSITION and c.run_key == RUN_KEY]
    assert check.state == "TRIGGERED", (check, result.errors)
    assert capsys.readouterr().out == ""
    assert '"checkpoint": "TRIGGER_SET"' in stream.getvalue()
    [marker] = list(firestore_client(project_id).collection("phasegate_triggers").stream())
    assert marker.to_dict()["lease_until"] >= before
    assert document(project_id)["_triggered_at"] >= before
    [message] = drain(subscription)
    assert message["reason"] == "tier:2h"


def test_an_older_document_with_iso_strings_fires_its_tier(project_id: str) -> None:
    """The canary reads ISO strings in old documents; the orchestrator must decide alike."""
    first = "2026-02-10T15:00:00Z"
    firestore_client(project_id).collection("phase3_completion").document(RUN_KEY).set({
        **{name: {"status": "success", "completed_at": first}
           for name in ("player_game_summary", "team_offense_game_summary",
                        "team_defense_game_summary")},
        "_first_completion_at": first})
    clock = FakeClock(dt.datetime(2026, 2, 10, 17, 0, tzinfo=dt.UTC))
    published = Published()
    orch, _ = orchestrator(project_id, expectations(policy=TIERS), clock, publish=published)
    assert orch.fire_due(dt.date.fromisoformat(RUN_KEY)).reason == "tier:2h"
    assert len(published.messages) == 1


def test_fan_out_sends_only_what_the_mode_expects(project_id: str) -> None:
    """Today's mode expects one processor: another completed one is not part of the firing."""
    target = {"kind": "pubsub", "topic": "nba-phase4-trigger", "message": None,
              "each": "completed"}
    clock = FakeClock()  # 2026-02-10 15:00 UTC: run key 2026-02-10 is today (same_day)
    published = Published()
    orch, _ = orchestrator(project_id, expectations(target=target), clock, publish=published)
    from phasegate.orchestrator.messages import parse_completion

    for name in ("PlayerGameSummaryProcessor", "UpcomingPlayerGameContextProcessor"):
        orch.handle(parse_completion(json.dumps(completion(name, "2026-02-10")).encode(), None))
    ids = [attributes["trigger_id"] for _, _, attributes in published.messages]
    assert ids == [f"{TRANSITION}/2026-02-10/upcoming_player_game_context"]
    assert published.messages[0][1]["completed"] == ["upcoming_player_game_context"]


def test_a_manual_fan_out_with_nothing_complete_is_refused(project_id: str) -> None:
    from phasegate.orchestrator.core import NothingToFire

    target = {"kind": "pubsub", "topic": "nba-phase4-trigger", "message": None,
              "each": "completed"}
    orch, _ = orchestrator(project_id, expectations(target=target), FakeClock(),
                           publish=Published())
    with pytest.raises(NothingToFire, match="would send nothing"):
        orch.fire_manual(dt.date.fromisoformat(RUN_KEY), "go")
    assert not document(project_id).get("_triggered")


def test_the_canary_retries_a_firing_its_target_failed(project_id: str) -> None:
    """All complete, the publish failed and Pub/Sub gave up: the canary's run sends it."""
    from phasegate.canary.evaluate import Settings
    from phasegate.canary.run import run_once
    from phasegate.canary.store import CanaryStore

    clock = FakeClock()
    failing, working = Published(fail_on={1}), Published()
    data = expectations()
    orch, _ = orchestrator(project_id, data, clock, publish=failing)
    deliver(orch, PHASE3[:4], clock)
    with pytest.raises(TriggerPublishFailed):
        deliver(orch, PHASE3[4:], clock)
    retry, _ = orchestrator(project_id, data, clock, publish=working)
    fired: list[str] = []

    def heal(transition: str, run_key: str, now: dt.datetime) -> Any:
        fired.append(transition)
        return retry.fire_due(dt.date.fromisoformat(run_key), now)

    settings = Settings({**data.data, "canary": {"lookback_days": 3, "notify": [{"log": {}}]}})
    clock.advance(minutes=5)  # the claim's lease is released on failure: nothing to wait for
    result = run_once(CanaryStore(firestore_client(project_id), pipeline="nba"), settings,
                      clock.now, heal=heal, stream=io.StringIO())
    [check] = [c for c in result.checks if c.transition == TRANSITION and c.run_key == RUN_KEY]
    assert check.state == "TRIGGERED" and fired == [TRANSITION]
    assert [body["reason"] for _, body, _ in working.messages] == ["all_complete"]
