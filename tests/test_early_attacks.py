"""Attacks on early LATE: each of these failed before its fix.

Pure: no emulator. Uses the helpers of tests/test_early.py (the small registry: phase 2
expects p2_box, p2_lines, p2_props, p2_sheet; deadline 240 minutes; usual offsets
p2_box +0, p2_lines +10, p2_sheet +20, p2_props +53..+59).
"""

from __future__ import annotations

import datetime as dt

from phasegate.canary import evaluate as evaluate_module
from phasegate.canary.evaluate import evaluate, history_keys, run_keys
from phasegate.canary.explain import explain
from phasegate.canary.incidents import plan
from tests.test_early import FIRST, PHASE2, TONIGHT, check, night, settings, tonight, week

OTHERS3 = {"p2_box": 0, "p2_lines": 10, "p2_sheet": 20}


class _Store:
    """read_documents / read_incidents over a dict of run key -> document."""

    def __init__(self, documents):
        self.documents = documents

    def read_documents(self, pairs):
        return {pair: self.documents.get(pair[1]) for pair in pairs}

    def read_incidents(self):
        return {}

    calls: dict = {}


# 1 ---------------------------------------------------------------------------------------
def test_a_processor_newly_added_to_the_registry_is_not_silent_in_older_documents():
    """p2_props joins the expected set today. The 7 previous documents were written by an
    orchestrator that did not expect it (their `_expected` says so) and fired without it.
    Tonight it completes at its usual +59 min; the others are done by +20. The silence rule
    counts every earlier document as a night of silence and alerts at +21."""
    history = {}
    day = dt.date.fromisoformat(TONIGHT)
    for n in range(1, 8):
        key = (day - dt.timedelta(days=n)).isoformat()
        history[key] = night(key, OTHERS3, _expected=["p2_box", "p2_lines", "p2_sheet"],
                             _triggered=True, _trigger_reason="all_complete")
    document = tonight(OTHERS3, _expected=sorted(PHASE2))
    result = check(document, history, 21)
    assert (result.state, result.alerting) == ("WAITING", False), result.detail


# 2 ---------------------------------------------------------------------------------------
def test_an_out_of_range_iso_time_in_an_old_history_document_does_not_escape_evaluate():
    """An ISO string (an old format the feature must read) at year 1 with a positive offset:
    `as_time` -> astimezone(UTC) raises OverflowError inside document_problem, which runs
    *outside* evaluate's try for every history document. One such document anywhere in the
    (now 17+ day) read window makes every evaluate of the transition raise, and run_once does
    not catch it: the whole canary run dies."""
    history = week()
    history["2026-01-28"] = {"_first_completion_at": "0001-01-01T00:00:00+05:00"}  # 13 days ago
    document = tonight(OTHERS3)
    result = check(document, history, 30)  # raises OverflowError today
    assert result.state == "WAITING"
    # the malformed document itself is UNREADABLE, not a crash
    [own] = evaluate("phase2_to_phase3", "2026-01-28", history["2026-01-28"],
                     FIRST, settings(), history)[:1]
    assert own.state == "UNREADABLE"


# 3 ---------------------------------------------------------------------------------------
def test_explain_does_not_call_processors_complete_when_there_is_no_document():
    """With no document for the run key (or an UNREADABLE one), `main.missing` is empty, so
    _early_lines labels every expected processor 'complete'."""
    history = week()
    now = FIRST + dt.timedelta(minutes=100)
    text = explain(_Store(history), settings(), "phase2_to_phase3", TONIGHT, now)
    assert "NO_DATA" in text
    assert "; complete" not in text, text
    history[TONIGHT] = tonight({"p2_box": 0}, p2_lines={"status": 7})  # UNREADABLE
    text = explain(_Store(history), settings(), "phase2_to_phase3", TONIGHT, now)
    assert "UNREADABLE" in text
    assert "p2_props: usually by +0h59 (median +0h56, 7 completions); complete" not in text


# 4 ---------------------------------------------------------------------------------------
def test_a_backfill_days_later_does_not_blind_the_learned_rule_for_learn_days():
    """The feed-dying story's own aftermath: p2_props failed on 2026-02-06 and was backfilled
    on 2026-02-09 (the orchestrator keeps the backfill's completed_at: offset ~ 3 days). That
    one sample becomes the 'latest offset seen', so for the next 14 days the learned rule
    needs p2_props to be 3 days late: it never fires before the deadline."""
    history = week()
    backfilled = history["2026-02-06"]
    backfilled["p2_props"] = {"status": "success",
                              "completed_at": dt.datetime(2026, 2, 9, 15, 0, tzinfo=dt.UTC)}
    document = tonight(OTHERS3)
    result = check(document, history, 120)  # 6 normal samples at +53..+59; now +2h00
    assert (result.state, result.alerting) == ("LATE", True), result.detail


# 5 ---------------------------------------------------------------------------------------
def test_a_failure_reported_after_early_late_opened_does_not_resolve_it():
    """Learned LATE opens at +90. At +100 p2_props reports `failed` (nothing completed): the
    learned rule now skips it, the state drops to WAITING and the incident is *resolved*;
    at the deadline LATE opens again. open -> 'resolved' -> open for one unchanged problem."""
    history = week()
    document = tonight(OTHERS3)
    cfg = settings()
    late = check(document, history, 90, cfg)
    assert late.alerting
    incidents = {late.dedup_key: {"dedup_key": late.dedup_key, "transition": late.transition,
                                  "run_key": late.run_key, "state": late.state, "open": True,
                                  "last_notified_at": FIRST + dt.timedelta(minutes=90)}}
    document["p2_props"] = {"status": "failed",
                            "recorded_at": FIRST + dt.timedelta(minutes=95)}
    now = FIRST + dt.timedelta(minutes=100)
    after = check(document, history, 100, cfg)
    decided = plan(incidents, [after], now, 6, run_keys(now, cfg))
    assert [n.kind for n in decided.notifications] == [], (after.state, decided.notifications)


# 6 ---------------------------------------------------------------------------------------
def test_run_keys_in_a_quiet_period_are_no_evidence_of_silence():
    """A break (quiet period 2026-02-06..2026-02-09): box, lines and sheet still run, props
    has nothing to process and never reports. The first night after the break, p2_props
    arrives at its usual +59; the silence rule counts the break nights and alerts at +21
    (the deadline would have said nothing)."""
    history = week()
    for key in ("2026-02-06", "2026-02-07", "2026-02-08", "2026-02-09"):
        history[key].pop("p2_props")
    cfg = settings(quiet_periods=[{"from": "2026-02-06", "to": "2026-02-09",
                                   "reason": "all-star break"}])
    result = check(tonight(OTHERS3), history, 21, cfg)
    assert (result.state, result.alerting) == ("WAITING", False), result.detail


# 7 ---------------------------------------------------------------------------------------
def test_the_usually_first_processor_is_not_late_because_another_one_ran_early():
    """p2_box always starts the clock (latest offset +0h00). Tonight p2_lines runs 2 h early
    (a manual run, an early scrape): `_first_completion_at` moves 2 h back and p2_box is
    'usually by +0h00, now +0h31' at 00:31 although it arrives at its usual 02:00 and every
    processor completes by 02:59, inside the deadline (first + 240 = 04:00). The deadline
    alone raises nothing; the learned rule raises a false LATE."""
    early_start = FIRST - dt.timedelta(hours=2)
    document = {"p2_lines": {"status": "success", "completed_at": early_start},
                "_first_completion_at": early_start}
    now = early_start + dt.timedelta(minutes=31)
    result = evaluate("phase2_to_phase3", TONIGHT, document, now, settings(),
                      {**week(), TONIGHT: document})[0]
    assert (result.state, result.alerting) == ("WAITING", False), result.detail


# 8 ---------------------------------------------------------------------------------------
def test_one_run_interprets_each_history_document_a_bounded_number_of_times(monkeypatch):
    """A run checks each document of the (learn_days-wide) read window once per transition,
    not once per run key it evaluates: run keys x history would be 368 x 734 checks per
    transition at the largest settings."""
    from phasegate.canary.run import run_once

    calls = []
    real = evaluate_module.document_problem
    monkeypatch.setattr(evaluate_module, "document_problem",
                        lambda d, a: calls.append(1) or real(d, a))
    cfg = settings({"learn_days": 60}, lookback_days=30)
    now = FIRST + dt.timedelta(minutes=30)
    keys = history_keys(now, cfg)
    store = _Store({k: night(k, {**OTHERS3, "p2_props": 59}) for k in keys})
    result = run_once(store, cfg, now, dry_run=True)
    transitions = len(cfg.expectations["transitions"])
    phase2 = [c for c in result.checks if c.transition == "phase2_to_phase3"]
    assert len(phase2) == len(run_keys(now, cfg)) and len(keys) == 92
    # each document once as evidence, and once more where it is the run key evaluated
    assert len(calls) <= transitions * (len(keys) + len(run_keys(now, cfg))), len(calls)
