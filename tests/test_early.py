"""Early LATE (canary.early): pure rules over documents, with the time passed in.

On the small test registry (tests/registries.py): phase 2 expects p2_box,
p2_lines, p2_props and p2_sheet; deadline 240 minutes.
"""

from __future__ import annotations

import copy
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from phasegate.canary.early import EarlyRules, elapsed, offset_text, samples, usual_times
from phasegate.canary.evaluate import Settings, evaluate, history_keys
from phasegate.canary.settings import check_settings
from tests.registries import canary_document

EXPECTED = canary_document()
PHASE2 = EXPECTED["transitions"]["phase2_to_phase3"]["expected"]
OTHERS = [name for name in PHASE2 if name != "p2_props"]
ALIASES = EXPECTED["aliases"]
UTC = dt.UTC
TONIGHT = "2026-02-10"
FIRST = dt.datetime(2026, 2, 11, 2, 0, tzinfo=UTC)  # tonight's first completion


def settings(early=None, **canary) -> Settings:
    data = copy.deepcopy(EXPECTED)
    data["canary"]["quiet_periods"] = []
    data["canary"].update(canary)
    if early is not None:
        data["canary"]["early"] = {**data["canary"]["early"], **early}
    return Settings(data)


def night(run_key: str, offsets: dict[str, float], *, status="success",
          first_field=True, **extra) -> dict:
    """A document: each processor completed ``offsets[name]`` minutes after 02:00 UTC the
    next day (the first completion)."""
    first = dt.datetime.fromisoformat(run_key).replace(tzinfo=UTC) + dt.timedelta(hours=26)
    body: dict = {name: {"status": status, "completed_at": first + dt.timedelta(minutes=m)}
                  for name, m in offsets.items()}
    if first_field:
        body["_first_completion_at"] = first
    body.update(extra)
    return body


def week(nights=7, props=60, before=TONIGHT) -> dict[str, dict]:
    """``nights`` nights before ``before``, p2_props completing ``props`` (+ i) minutes in."""
    day = dt.date.fromisoformat(before)
    return {(day - dt.timedelta(days=n)).isoformat():
            night((day - dt.timedelta(days=n)).isoformat(),
                  {"p2_box": 0, "p2_lines": 10, "p2_sheet": 20, "p2_props": props - n})
            for n in range(1, nights + 1)}


def tonight(offsets=None, **extra) -> dict:
    return night(TONIGHT, offsets if offsets is not None else {"p2_box": 0, "p2_sheet": 20},
                 **extra)


def check(document, history, minutes_after_first: float, cfg=None):
    now = FIRST + dt.timedelta(minutes=minutes_after_first)
    return evaluate("phase2_to_phase3", TONIGHT, document, now, cfg or settings(),
                    {**history, TONIGHT: document})[0]


# -- the learned rule ------------------------------------------------------------------


def test_learned_rule_alerts_once_later_than_the_latest_offset_plus_slack():
    history = week()  # p2_props at 53..59 minutes; the latest is 59
    document = tonight({"p2_box": 0, "p2_lines": 10, "p2_sheet": 20})
    assert check(document, history, 59 + 30).state == "WAITING"
    late = check(document, history, 59 + 30 + 1)
    assert (late.state, late.alerting) == ("LATE", True)
    assert "p2_props usually by +0h59, now +1h30 (latest of 7 completions in 14 days)" \
        in late.detail
    assert "before the 240-minute deadline" in late.detail
    [props] = late.missing
    assert props.early and props.early.startswith("learned: usually by +0h59")


def test_learned_rule_needs_min_samples_within_learn_days():
    document = tonight({"p2_box": 0, "p2_lines": 10, "p2_sheet": 20})
    assert check(document, week(nights=4), 120).state == "WAITING"  # 4 samples < 5
    assert check(document, week(nights=5), 120).state == "LATE"
    # samples older than learn_days do not count
    old = week(nights=5, before="2026-01-20")
    assert check(document, old, 120).state == "WAITING"
    assert check(document, old, 120, settings({"learn_days": 30})).state == "LATE"


def test_learned_rule_only_counts_run_keys_before_this_one():
    later = {k: v for k, v in week(before="2026-02-20").items() if k > TONIGHT}
    assert samples(TONIGHT, later, ALIASES, 14) == {}


def test_a_processor_that_failed_tonight_is_left_to_the_deadline():
    """A failure says it runs and is being retried: no learned alert, the deadline holds."""
    document = tonight({"p2_box": 0, "p2_lines": 10, "p2_sheet": 20})
    document["p2_props"] = {"status": "failed", "recorded_at": FIRST + dt.timedelta(minutes=55)}
    assert check(document, week(), 150).state == "WAITING"
    late = check(document, week(), 240)
    assert late.state == "LATE" and "p2_props (enabled; failed at 21:55)" in late.detail


def test_learned_offsets_use_elapsed_time_across_the_end_of_dst():
    """The run key of 2026-10-31 reports across the repeated hour of 2026-11-01 (New York):
    90 elapsed minutes are 30 on the wall clock."""
    zone = ZoneInfo("America/New_York")
    first = dt.datetime(2026, 11, 1, 0, 50, tzinfo=zone)  # EDT
    wall = dt.datetime(2026, 11, 1, 1, 20, fold=1, tzinfo=zone)  # EST, 90 elapsed minutes
    assert elapsed(first, wall) == dt.timedelta(minutes=90)
    document = {"p2_props": {"status": "success", "completed_at": wall},
                "_first_completion_at": first}
    assert samples("2026-11-02", {"2026-10-31": document}, ALIASES, 14) == {
        "p2_props": [dt.timedelta(minutes=90)]}


# -- the silence rule ------------------------------------------------------------------


def test_silence_alerts_once_every_other_expected_processor_completed():
    history = week(nights=1)
    history["2026-02-09"].pop("p2_props")  # silent last night too
    all_others = tonight({"p2_box": 0, "p2_lines": 10, "p2_sheet": 20})
    late = check(all_others, history, 21)
    assert (late.state, late.alerting) == ("LATE", True)
    assert "p2_props silent for 2 run keys (no completion in the history read)" in late.detail
    # one other still missing: the missing one is not the only hold-up
    assert check(tonight({"p2_box": 0, "p2_sheet": 20}), history, 21).state == "WAITING"


def test_silence_needs_silent_run_keys_consecutive_documents():
    history = week(nights=3)
    history["2026-02-09"].pop("p2_props")
    document = tonight({"p2_box": 0, "p2_lines": 10, "p2_sheet": 20})
    assert check(document, history, 21).state == "LATE"
    late = check(document, history, 21, settings({"silent_run_keys": 3}))
    assert late.state == "WAITING"  # 2026-02-08 has it
    history["2026-02-08"].pop("p2_props")
    late = check(document, history, 21, settings({"silent_run_keys": 3}))
    assert "silent for 3 run keys (last completed 2026-02-07)" in late.detail
    # run keys without a document neither count nor break the run of silence
    del history["2026-02-09"]
    assert check(document, history, 21, settings({"silent_run_keys": 2})).state == "LATE"


def test_a_document_without_a_run_is_no_silence():
    """Only a season-level report, or every report failed: no run happened that night."""
    history = week(nights=3)
    history["2026-02-09"] = night("2026-02-09", {"p2_schedule": 0})
    history["2026-02-08"] = night("2026-02-08", {"p2_box": 0, "p2_lines": 5}, status="failed")
    document = tonight({"p2_box": 0, "p2_lines": 10, "p2_sheet": 20})
    assert check(document, history, 21).state == "WAITING"
    history["2026-02-07"].pop("p2_props")
    late = check(document, history, 21)
    assert "silent for 2 run keys (no completion in the history read)" in late.detail
    # a run key with a run that completed without it counts: last completed 2026-02-07
    history["2026-02-08"] = night("2026-02-08", {"p2_box": 0})
    history["2026-02-07"]["p2_props"] = {"status": "success",
                                         "completed_at": FIRST - dt.timedelta(days=3)}
    assert "silent for 2 run keys (last completed 2026-02-07)" in check(
        document, history, 21).detail


def test_a_failed_status_is_no_report_for_the_silence_rule():
    history = week(nights=1)
    history["2026-02-09"]["p2_props"] = {"status": "failed"}
    document = tonight({"p2_box": 0, "p2_lines": 10, "p2_sheet": 20})
    document["p2_props"] = {"status": "failed", "recorded_at": FIRST}
    late = check(document, history, 25)
    assert late.state == "LATE" and "silent for 2 run keys" in late.detail
    assert "p2_props (enabled; failed at 21:00)" in late.detail


def test_a_run_key_whose_mode_does_not_expect_it_is_no_silence():
    history = week(nights=2)
    history["2026-02-09"].pop("p2_props")
    history["2026-02-08"].pop("p2_props")
    document = tonight({"p2_box": 0, "p2_lines": 10, "p2_sheet": 20})
    assert check(document, history, 21).state == "LATE"
    cfg = settings()
    spec = cfg.expectations["transitions"]["phase2_to_phase3"]
    # earlier run keys expect only the others: their lack of p2_props says nothing
    spec["modes"] = {"past": {"when": "before_today", "expected": OTHERS, "required": []}}
    assert check(document, history, 21, cfg).state == "WAITING"


# -- both rules, the policy and the deadline -------------------------------------------


@pytest.mark.parametrize("early", [{"silent_run_keys": 0, "learn_days": 0}])
def test_each_rule_turns_off_with_zero(early):
    history = week()
    history["2026-02-09"].pop("p2_props")
    document = tonight({"p2_box": 0, "p2_lines": 10, "p2_sheet": 20})
    assert check(document, history, 200).state == "LATE"
    assert check(document, history, 200, settings({"learn_days": 0})).state == "LATE"  # silence
    no_silence = settings({"silent_run_keys": 0})
    assert check(document, history, 21, no_silence).state == "WAITING"
    assert check(document, history, 200, no_silence).state == "LATE"  # learned
    off = settings(early)
    assert check(document, history, 239, off).state == "WAITING"
    assert check(document, history, 240, off).state == "LATE"  # the deadline stays
    # when each state started to hold: the deadline; silence: the last other completion
    assert check(document, history, 250, off).detectable == FIRST + dt.timedelta(minutes=240)
    assert check(document, history, 25).detectable == FIRST + dt.timedelta(minutes=20)


def test_no_early_late_when_the_policy_can_fire_without_it():
    cfg = settings()
    spec = cfg.expectations["transitions"]["phase2_to_phase3"]
    spec.update(policy=[{"after": "3h", "min": 3}], required=["p2_box"])
    document = tonight({"p2_box": 0, "p2_lines": 10, "p2_sheet": 20})
    assert check(document, week(), 150, cfg).state == "WAITING"  # the 3h tier fires it
    spec["required"] = ["p2_box", "p2_props"]  # now it cannot
    assert check(document, week(), 150, cfg).state == "LATE"


def test_quiet_period_keeps_early_late_silent():
    cfg = settings(quiet_periods=[{"from": TONIGHT, "to": TONIGHT, "reason": "break"}])
    document = tonight({"p2_box": 0, "p2_lines": 10, "p2_sheet": 20})
    late = check(document, week(), 150, cfg)
    assert (late.state, late.alerting, late.quiet) == ("LATE", False, "break")


# -- old and bad documents -------------------------------------------------------------


def test_old_formats_feed_the_learning_like_new_ones():
    """ISO strings and class names as keys give samples; a flag without a time does not."""
    history = {}
    for n in range(1, 6):
        key = f"2026-02-0{n}"
        first = dt.datetime.fromisoformat(key).replace(tzinfo=UTC) + dt.timedelta(hours=26)
        history[key] = {
            "BoxProcessor": first.isoformat(),  # a legacy timestamp under a class name
            "PropsProcessor": {"status": "success",
                               "completed_at": (first + dt.timedelta(minutes=50)).isoformat()
                               .replace("+00:00", "Z")},
            "SheetProcessor": True,  # a legacy flag: completed, no time, no sample
            "_first_completion_at": first.isoformat(),
        }
    learned = usual_times(TONIGHT, history, ALIASES, EarlyRules())
    assert learned["p2_props"].latest == dt.timedelta(minutes=50)
    assert learned["p2_props"].samples == 5
    assert learned["p2_box"].latest == dt.timedelta()
    assert "p2_sheet" not in learned


def test_a_document_without_first_completion_gives_no_sample():
    history = week()
    for document in history.values():
        document.pop("_first_completion_at")
    assert samples(TONIGHT, history, ALIASES, 14) == {}
    document = tonight({"p2_box": 0, "p2_lines": 10, "p2_sheet": 20})
    assert check(document, history, 200).state == "WAITING"


def test_clock_skew_is_clamped_not_a_crash():
    history = week(props=-30)  # p2_props "completed" before the first completion
    assert set(samples(TONIGHT, history, ALIASES, 14)["p2_props"]) == {dt.timedelta()}
    document = tonight({"p2_box": 0, "p2_lines": 10, "p2_sheet": 20})
    assert check(document, history, 30).state == "WAITING"
    assert check(document, history, 31).state == "LATE"
    # tonight's clock behind its first completion: no negative lateness
    assert check(document, history, -60).state == "WAITING"


def test_an_unreadable_history_document_is_no_evidence():
    history = week()
    history["2026-02-09"]["p2_props"] = {"status": 7}  # malformed: UNREADABLE on its own
    history["2026-02-08"]["_first_completion_at"] = ["not", "a", "time"]
    document = tonight({"p2_box": 0, "p2_lines": 10, "p2_sheet": 20})
    late = check(document, history, 200)
    assert "latest of 5 completions" in late.detail


def test_offset_text():
    assert offset_text(dt.timedelta(minutes=85)) == "+1h25"
    assert offset_text(dt.timedelta(seconds=299)) == "+0h04"
    assert offset_text(dt.timedelta(minutes=-5)) == "+0h00"


# -- settings and the read window ------------------------------------------------------


def test_the_run_reads_the_learning_window_before_the_lookback():
    now = dt.datetime(2026, 2, 20, 15, 0, tzinfo=UTC)  # 10:00 in New York
    keys = history_keys(now, settings())
    assert (keys[0], keys[-1]) == ("2026-02-03", "2026-02-21")  # 3 + 14 days back, tomorrow
    off = history_keys(now, settings({"learn_days": 0, "silent_run_keys": 0}))
    assert (off[0], off[-1]) == ("2026-02-17", "2026-02-21")  # the lookback only
    assert history_keys(now, settings({"learn_days": 0}))[0] == "2026-02-03"  # 2 x 7 days


@pytest.mark.parametrize("early,problem", [
    ({"learn_days": -1}, "canary.early.learn_days is -1, outside 0"),
    ({"min_samples": 2}, "canary.early.min_samples is 2, outside 3"),
    ({"slack_minutes": "30m"}, "canary.early.slack_minutes is '30m', not a number"),
    ({"silent_run_keys": 1.5}, "canary.early.silent_run_keys is 1.5, not a whole number"),
    ({"silent_run_keys": True}, "not a number"),
    ({"surprise": 1}, "canary.early.surprise is not a setting"),
    ("on", "canary.early is not a map"),
])
def test_unusable_early_settings_are_reported_and_replaced(early, problem):
    data = copy.deepcopy(EXPECTED)
    data["canary"]["early"] = early
    checked = check_settings(Settings(data))
    assert any(problem in p for p in checked.problems), checked.problems
    assert EarlyRules.of(checked.settings.canary) == EarlyRules()  # the defaults instead
