"""Policy tiers and message templates: pure functions, injected time."""

from __future__ import annotations

import datetime as dt

import pytest

from phasegate.policy import (
    Tier,
    decide,
    min_problem,
    needed,
    render,
    resolved_min,
    template_problems,
    tiers_of,
    trigger_id,
)

T0 = dt.datetime(2026, 3, 8, 6, 0, tzinfo=dt.UTC)
FIVE = frozenset({"a", "b", "c", "d", "e"})
TIERS = (Tier("0m", "all"), Tier("30m", 4), Tier("2h", 3), Tier("4h", "required"))


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def done(*names: str, minute: float = 0) -> dict[str, dt.datetime | None]:
    return {name: at(minute + index) for index, name in enumerate(names)}


@pytest.mark.parametrize("tier,count,expected", [
    (Tier("0m", "all"), 5, 5),
    (Tier("0m", 4), 5, 4),
    (Tier("0m", 9), 5, 5),  # above the expected count: all
    (Tier("0m", "60%"), 5, 3),
    (Tier("0m", "61%"), 5, 4),  # rounded up
    (Tier("0m", "100%"), 5, 5),
    (Tier("0m", "1%"), 5, 1),
    (Tier("0m", "33.3%"), 3, 1),
    (Tier("0m", "required"), 5, 1),
    (Tier("0m", "all"), 0, 0),
])
def test_needed_rounds_up_and_clamps(tier: Tier, count: int, expected: int) -> None:
    assert needed(tier, count) == expected


@pytest.mark.parametrize("value,ok", [
    ("all", True), ("required", True), (1, True), (40, True), ("60%", True), ("100%", True),
    ("12.5%", True), (0, False), (-1, False), (True, False), ("0%", False), ("101%", False),
    ("60", False), ("most", False), (None, False), (2.5, False),
])
def test_min_problem(value: object, ok: bool) -> None:
    assert (min_problem(value) is None) is ok


def test_all_complete_fires_at_once_whatever_the_tiers() -> None:
    decision = decide(TIERS, FIVE, frozenset(), done(*sorted(FIVE)), at(0), at(4))
    assert (decision.holds, decision.reason, decision.since) == (True, "all_complete", at(4))


def test_a_tier_holds_only_after_its_time() -> None:
    four = done("a", "b", "c", "d")
    assert not decide(TIERS, FIVE, frozenset(), four, at(0), at(29)).holds
    decision = decide(TIERS, FIVE, frozenset(), four, at(0), at(30))
    assert (decision.holds, decision.reason, decision.since) == (True, "tier:30m", at(30))


def test_a_tier_can_start_to_hold_with_no_new_message() -> None:
    """Three complete by minute 5: nothing at 1h59, tier:2h at 2h with the same document."""
    three = done("a", "b", "c")
    assert not decide(TIERS, FIVE, frozenset(), three, at(0), at(119)).holds
    decision = decide(TIERS, FIVE, frozenset(), three, at(0), at(120))
    assert decision.reason == "tier:2h"
    assert decision.since == at(120)


def test_since_is_the_completion_that_satisfied_a_due_tier() -> None:
    four = {**done("a", "b", "c"), "d": at(50)}
    decision = decide(TIERS, FIVE, frozenset(), four, at(0), at(60))
    assert (decision.reason, decision.since) == ("tier:30m", at(50))


def test_a_required_processor_blocks_every_tier() -> None:
    required = frozenset({"e"})
    four = done("a", "b", "c", "d")
    decision = decide(TIERS, FIVE, required, four, at(0), at(300))
    assert not decision.holds
    assert decision.next is not None
    assert decision.next.tier.after == "4h"  # every tier is due: the weakest is shown
    assert decision.next.lacking_required == ("e",)
    assert "required e" in decision.next.described()
    assert decide(TIERS, FIVE, required, {**four, "e": at(301)}, at(0), at(302)).reason == (
        "all_complete")
    three_and_e = done("a", "b", "e")
    assert decide(TIERS, FIVE, required, three_and_e, at(0), at(120)).reason == "tier:2h"


def test_required_only_tier_needs_one_completion() -> None:
    assert decide((Tier("4h", "required"),), FIVE, frozenset(), done("a"), at(0),
                  at(240)).reason == "tier:4h"


def test_next_tier_is_the_first_not_yet_due() -> None:
    decision = decide(TIERS, FIVE, frozenset(), done("a", "b"), at(0), at(45))
    assert decision.next is not None
    assert (decision.next.tier.after, decision.next.at) == ("2h", at(120))
    assert decision.next.described() == ("tier 2h (at least 3) due 2026-03-08 08:00 UTC needs 1 "
                                         "more of the expected (2/3 complete)")


def test_no_first_completion_holds_nothing() -> None:
    decision = decide(TIERS, FIVE, frozenset(), {}, None, at(1000))
    assert not decision.holds


def test_unexpected_completions_never_count() -> None:
    decision = decide(TIERS, FIVE, frozenset(), done("a", "b", "x", "y", "z"), at(0), at(31))
    assert not decision.holds


def test_no_policy_is_all_or_nothing() -> None:
    assert not decide((), FIVE, frozenset(), done("a", "b", "c", "d"), at(0), at(10_000)).holds


def test_auto_heal_is_a_deadline_tier_of_the_required_ones() -> None:
    tiers = tiers_of({"policy": [], "auto_heal": True, "deadline_minutes": 240})
    assert tiers == (Tier("240m", "required", "deadline_partial"),)
    required = frozenset({"a"})
    assert decide(tiers, FIVE, required, done("a"), at(0), at(239)).holds is False
    assert decide(tiers, FIVE, required, done("a"), at(0), at(240)).reason == "deadline_partial"
    assert decide(tiers, FIVE, required, done("b"), at(0), at(500)).holds is False


def test_daylight_saving_does_not_move_a_tier() -> None:
    """Tiers count elapsed time: 2h after 01:30 EST on the spring-forward night is 04:30 EDT."""
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("America/New_York")
    first = dt.datetime(2026, 3, 8, 1, 30, tzinfo=zone)
    three = {"a": first, "b": first, "c": first}
    before = dt.datetime(2026, 3, 8, 4, 29, tzinfo=zone)
    after = dt.datetime(2026, 3, 8, 4, 30, tzinfo=zone)
    assert not decide(TIERS, FIVE, frozenset(), three, first, before).holds
    assert decide(TIERS, FIVE, frozenset(), three, first, after).reason == "tier:2h"


def test_resolved_min_orders_tiers() -> None:
    values = [resolved_min(t, 5, 1) for t in TIERS]
    assert values == [5, 4, 3, 1]
    assert resolved_min(Tier("0m", 1), 5, 2) == 2  # required are always included


# -- templates -------------------------------------------------------------------------


def test_render_keeps_json_types_for_whole_placeholders() -> None:
    values = {"run_key": "2026-03-08", "mode": None, "completed": ["a", "b"], "reason": "all"}
    template = {"game_date": "{run_key}", "mode": "{mode}", "sources": "{completed}",
                "text": "{run_key}: {completed} ({reason}) {{literal}}", "n": 3, "ok": True,
                "nested": [{"d": "{run_key}"}]}
    assert render(template, values) == {
        "game_date": "2026-03-08", "mode": None, "sources": ["a", "b"],
        "text": "2026-03-08: a,b (all) {literal}", "n": 3, "ok": True,
        "nested": [{"d": "2026-03-08"}]}


@pytest.mark.parametrize("template,each,problem", [
    ({"a": "{run_key}"}, None, None),
    ({"a": "{processor}"}, "completed", None),
    ({"a": "{processor}"}, None, "{processor} needs each: completed"),
    ({"a": "{runkey}"}, None, "unknown placeholder {runkey}"),
    ({"a": ["x", {"b": "{nope}"}]}, None, "unknown placeholder {nope}"),
    ({"a": "{"}, None, "lone brace"),
    ({"a": "}x"}, None, "lone brace"),
    ({"a": "{{ok}}"}, None, None),
    ({"a": float("inf")}, None, "not a JSON number"),
    ({"a": dt.date(2026, 1, 1)}, None, "renders to no JSON value"),
    ({1: "x"}, None, "JSON keys are text"),
])
def test_template_problems(template: object, each: str | None, problem: str | None) -> None:
    problems = template_problems(template, each)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problem in problems[0][1]


def test_a_non_text_key_and_its_value_are_both_checked() -> None:
    problems = template_problems({7: "{nope}"}, None)
    assert [message for _, message in problems] == [
        "a key is int 7; JSON keys are text",
        "unknown placeholder {nope}; known: " + ", ".join(
            ("run_key", "transition", "mode", "reason", "trigger_id", "completed", "missing",
             "processor"))]


def test_template_problems_name_the_path() -> None:
    assert template_problems({"a": ["x", {"b": "{nope}"}]}, None)[0][0] == ("a", 1, "b")


def test_a_deep_template_is_one_problem_not_a_crash() -> None:
    template: object = "x"
    for _ in range(1000):
        template = {"k": template}
    problems = template_problems(template, None)
    assert len(problems) == 1 and "deeper than" in problems[0][1]


def test_trigger_ids() -> None:
    assert trigger_id("p4", "2026-03-08") == "p4/2026-03-08"
    assert trigger_id("p4", "2026-03-08", "ml_store") == "p4/2026-03-08/ml_store"
