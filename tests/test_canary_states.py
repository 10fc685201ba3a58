"""Canary state evaluation and incident decisions: pure, with the time passed in.

On the small test registry (tests/registries.py), never the reference pipeline.
"""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from phasegate.canary.channels import SLACK_MAX_BLOCKS, SLACK_MAX_SECTION, slack_messages
from phasegate.canary.evaluate import Settings, evaluate, run_keys
from phasegate.canary.incidents import Notification, plan
from tests.registries import canary_document

EXPECTED = canary_document()  # the small test registry's canary/expected.json
PHASE2 = EXPECTED["transitions"]["phase2_to_phase3"]["expected"]
UTC = dt.UTC


def settings(calendar=(), **canary) -> Settings:
    data = copy.deepcopy(EXPECTED)
    data["canary"].update(canary)
    return Settings(data, frozenset(calendar))


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def doc(names, first="2026-02-10T02:00:00+00:00", **fields):
    first_at = at(first)
    body = {name: {"status": "success", "completed_at": first_at + dt.timedelta(minutes=i)}
            for i, name in enumerate(names)}
    body["_first_completion_at"] = first_at
    body["_registry_digest"] = EXPECTED["registry_digest"]
    body.update(fields)
    return body


def state(document, now, run_key="2026-02-09", cfg=None, transition="phase2_to_phase3"):
    return evaluate(transition, run_key, document, at(now), cfg or settings())


def test_no_document_is_no_data():
    [check] = state(None, "2026-02-10T12:00:00+00:00")
    assert (check.state, check.alerting) == ("NO_DATA", False)


def test_missing_run_after_the_calendar_hours_and_not_before():
    cfg = settings(calendar=EXPECTED["calendar"])  # the registry's calendar holds 2026-02-09
    # midnight 2026-02-09 EST is 05:00 UTC; + 30 h = 2026-02-10 11:00 UTC
    assert state(None, "2026-02-10T10:59:59+00:00", cfg=cfg)[0].state == "NO_DATA"
    [check] = state(None, "2026-02-10T11:00:00+00:00", cfg=cfg)
    assert (check.state, check.alerting) == ("MISSING_RUN", True)


def test_missing_run_counts_elapsed_hours_across_the_end_of_dst():
    cfg = settings(calendar=EXPECTED["calendar"])  # holds 2026-11-01
    # midnight 2026-11-01 EDT is 04:00 UTC; that day has 25 hours; + 30 h = 11-02 10:00 UTC
    assert state(None, "2026-11-02T09:59:00+00:00", "2026-11-01", cfg)[0].state == "NO_DATA"
    assert state(None, "2026-11-02T10:00:00+00:00", "2026-11-01", cfg)[0].state == "MISSING_RUN"


def test_waiting_then_late_exactly_at_the_deadline():
    partial = doc(PHASE2[:-1])  # first completion 02:00 UTC, deadline 240 minutes
    assert state(partial, "2026-02-10T05:59:59+00:00")[0].state == "WAITING"
    [check] = state(partial, "2026-02-10T06:00:00+00:00")
    assert (check.state, check.alerting) == ("LATE", True)
    assert [m.name for m in check.missing] == [PHASE2[-1]]
    assert check.missing[0].status == "enabled"


def test_stuck_exactly_at_the_grace_after_the_last_completion():
    complete = doc(PHASE2)  # four names: last completion 02:03 UTC, grace 30 minutes
    assert state(complete, "2026-02-10T02:32:59+00:00")[0].state == "WAITING"
    [check] = state(complete, "2026-02-10T02:33:00+00:00")
    assert (check.state, check.alerting) == ("STUCK", True)


def test_triggered_is_quiet_and_deadline_partial_warns():
    [check] = state(doc(PHASE2, _triggered=True), "2026-02-11T00:00:00+00:00")
    assert (check.state, check.alerting) == ("TRIGGERED", False)
    [partial] = state(doc(PHASE2[:3], _triggered=True, _trigger_reason="deadline_partial"),
                      "2026-02-11T00:00:00+00:00")
    assert partial.state == "TRIGGERED" and "warning" in partial.detail


def test_quiet_period_silences_late_but_not_stuck():
    run_key = "2026-02-14"  # winter break 02-13..02-18
    late = state(doc(PHASE2[:-1], first="2026-02-15T02:00:00+00:00"),
                 "2026-02-15T08:00:00+00:00", run_key)[0]
    assert (late.state, late.alerting, late.quiet) == ("LATE", False, "winter break")
    stuck = state(doc(PHASE2, first="2026-02-15T02:00:00+00:00"),
                  "2026-02-15T08:00:00+00:00", run_key)[0]
    assert (stuck.state, stuck.alerting) == ("STUCK", True)


def test_old_documents_with_iso_strings_and_class_names():
    legacy = {"BoxProcessor": {"status": "success", "completed_at": "2026-02-10T02:00:00Z"},
              "SheetProcessor": {"completed_at": "2026-02-10T02:05:00Z"},
              "_first_completion_at": "2026-02-10T02:00:00Z"}
    [check] = state(legacy, "2026-02-10T06:00:00+00:00")
    assert check.state == "LATE"  # no digest: legacy, not stale
    assert set(check.completed) == {"p2_box", "p2_sheet"}


def test_unknown_names_and_stale_registry_are_warnings_beside_the_state():
    document = doc(PHASE2[:-1], _transition_digest="0" * 64,
                   _unknown={"BoxProcesor": {"status": "success"}})
    checks = state(document, "2026-02-09T12:00:00+00:00")
    assert [(c.state, c.alerting) for c in checks] == [
        ("WAITING", False), ("UNKNOWN_NAMES", True), ("STALE_REGISTRY", True)]
    assert "BoxProcesor" in checks[1].detail
    assert "transition digest 000000000000" in checks[2].detail


def test_a_run_key_that_already_fired_is_never_stale():
    document = doc(PHASE2, _triggered=True, _transition_digest="0" * 64)
    assert [c.state for c in state(document, "2026-02-10T12:00:00+00:00")] == ["TRIGGERED"]


def test_only_the_transition_digest_decides_stale():
    current = settings().expectations["transitions"]["phase2_to_phase3"]["digest"]
    same = doc(PHASE2[:-1], _transition_digest=current, _registry_digest="0" * 64)
    legacy = doc(PHASE2[:-1], _registry_digest="0" * 64)  # written before transition digests
    for document in (same, legacy):
        assert [c.state for c in state(document, "2026-02-09T12:00:00+00:00")] == ["WAITING"]


def test_a_processor_silent_on_every_run_key_is_flagged_as_drift():
    cfg = settings()
    history = {f"2026-02-{d:02d}": doc(PHASE2[:-1], first=f"2026-02-{d + 1:02d}T02:00:00+00:00")
               for d in (6, 7, 8, 9)}
    [check] = evaluate("phase2_to_phase3", "2026-02-09", history["2026-02-09"],
                       at("2026-02-10T12:00:00+00:00"), cfg, history)
    assert check.missing[0].last_reported is None
    assert f"{PHASE2[-1]} has not reported for 4 run keys; its upstream may be disabled" in (
        check.detail)


def test_last_reported_names_the_latest_run_key():
    history = {"2026-02-08": doc(PHASE2, first="2026-02-09T02:00:00+00:00"),
               "2026-02-09": doc(PHASE2[:-1])}
    [check] = evaluate("phase2_to_phase3", "2026-02-09", history["2026-02-09"],
                       at("2026-02-10T12:00:00+00:00"), settings(), history)
    assert check.missing[0].last_reported == "2026-02-08"


def test_modes_follow_the_local_date():
    complete = {"game_context": {"status": "success",
                                 "completed_at": at("2026-02-10T15:00:00+00:00")},
                "_first_completion_at": at("2026-02-10T15:00:00+00:00")}
    [check] = state(complete, "2026-02-10T15:10:00+00:00", "2026-02-10", settings(),
                    "phase3_to_phase4")
    assert (check.mode, check.state) == ("same_day", "WAITING")


def test_run_keys_span_lookback_through_tomorrow_in_local_time():
    # 03:00 UTC on Feb 10 is Feb 9 in New York
    assert run_keys(at("2026-02-10T03:00:00+00:00"), settings()) == [
        "2026-02-06", "2026-02-07", "2026-02-08", "2026-02-09", "2026-02-10"]


# incidents ---------------------------------------------------------------------

def late_check():
    return state(doc(PHASE2[:-1]), "2026-02-10T06:00:00+00:00")[0]


def test_incident_opens_renotifies_after_hours_and_resolves():
    check = late_check()
    now = at("2026-02-10T06:00:00+00:00")
    window = ["2026-02-09"]
    assert [n.kind for n in plan({}, [check], now, 6, window).notifications] == ["open"]
    incident = {check.dedup_key: {"transition": check.transition, "run_key": check.run_key,
                                  "state": check.state, "last_notified_at": now}}
    later = now + dt.timedelta(hours=5, minutes=59)
    assert plan(incident, [check], later, 6, window).notifications == []
    due = now + dt.timedelta(hours=6)
    assert [n.kind for n in plan(incident, [check], due, 6, window).notifications] == [
        "renotify"]
    assert [n.kind for n in plan(incident, [], due, 6, window).notifications] == ["resolve"]
    expired = plan(incident, [], due, 6, ["2026-02-12"])
    assert expired.notifications == [] and expired.expire == [check.dedup_key]


def test_slack_messages_respect_block_and_section_limits():
    notes = [Notification("open", "t", f"2026-01-{i % 28 + 1:02d}", "LATE", f"t/{i}/LATE",
                          "x" * 5000) for i in range(60)]
    messages = slack_messages(notes, "nba-stats")
    assert len(messages) == 2
    assert all(len(m["blocks"]) <= SLACK_MAX_BLOCKS for m in messages)
    sections = [b for m in messages for b in m["blocks"] if b["type"] == "section"]
    assert len(sections) == 60
    assert all(len(b["text"]["text"]) <= SLACK_MAX_SECTION for b in sections)


def test_slack_groups_new_ongoing_and_resolved():
    notes = [Notification("renotify", "t", "d", "LATE", "a", "x"),
             Notification("open", "t", "d", "STUCK", "b", "y"),
             Notification("resolve", "t", "d", "LATE", "c", "z")]
    [message] = slack_messages(notes, "p")
    headers = [b["text"]["text"] for b in message["blocks"] if b["type"] == "header"]
    assert [h.split(" (")[0] for h in headers] == [
        ":rotating_light: New", ":hourglass: Still open", ":white_check_mark: Resolved"]


@pytest.mark.parametrize("now,expected", [("2026-02-10T04:59:00+00:00", "2026-02-09"),
                                          ("2026-02-10T05:00:00+00:00", "2026-02-10")])
def test_today_is_the_registry_timezone_not_the_machine(now, expected):
    assert run_keys(at(now), settings())[-2] == expected


def test_a_calendar_day_whose_document_holds_no_expected_completion_is_missing_run():
    """Every report failed (or only unknown names came): no first completion, so no deadline;
    on a day the calendar expects a run that must not wait forever."""
    cfg = settings(calendar=EXPECTED["calendar"])  # holds 2026-02-09
    failed = {name: {"status": "failed", "completed_at": None,
                     "recorded_at": at("2026-02-09T08:12:00+00:00")}  # 03:12 in New York
              for name in EXPECTED["transitions"]["phase2_to_phase3"]["expected"]}
    assert state(failed, "2026-02-10T10:59:59+00:00", cfg=cfg)[0].state == "WAITING"
    [check] = state(failed, "2026-02-10T11:00:00+00:00", cfg=cfg)
    assert (check.state, check.alerting) == ("MISSING_RUN", True)
    assert "no expected processor has completed" in check.detail
    assert "(enabled; failed at 03:12)" in check.detail  # the status of this run key, not a report
    [empty] = state({}, "2026-02-10T11:00:00+00:00", cfg=cfg)
    assert empty.state == "MISSING_RUN"
    [other_day] = state(failed, "2026-02-11T12:00:00+00:00", "2026-02-10", cfg)
    assert other_day.state == "WAITING"  # not a calendar day: nothing says a run was due


def test_late_names_each_missing_processors_status_for_this_run_key():
    expected = EXPECTED["transitions"]["phase2_to_phase3"]["expected"]
    document = doc(expected[:-1], **{expected[-1]: {
        "status": "failed", "completed_at": None,
        "recorded_at": at("2026-02-10T08:12:00+00:00")}})  # 03:12 in New York
    [check] = state(document, "2026-02-10T12:00:00+00:00")
    assert check.state == "LATE"
    assert f"{expected[-1]} (enabled; failed at 03:12)" in check.detail


def test_without_a_first_completion_field_the_deadline_counts_from_an_expected_one():
    """p2_schedule (not expected) completed five hours before the first expected one: the
    deadline counts from the expected one, as the orchestrator's clock does."""
    early = at("2026-02-09T21:00:00+00:00")
    document = doc(PHASE2[:2], first="2026-02-10T02:00:00+00:00")
    del document["_first_completion_at"]
    document["p2_schedule"] = {"status": "success", "completed_at": early}
    [check] = state(document, "2026-02-10T03:00:00+00:00")
    assert check.state == "WAITING"  # 1 h after the first expected one (the other: 6 h)
    [check] = state(document, "2026-02-10T06:00:00+00:00")
    assert check.state == "LATE"
