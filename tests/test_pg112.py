"""PG112 policy: tiers that relax over time, before the deadline, on a transition that fires,
and message templates that render, each finding at the value it is about."""

from __future__ import annotations

import textwrap

import pytest

from phasegate.registry.loading import load_registry
from tests.conftest import REFERENCE_REGISTRY, findings_for

BASE = """\
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_a: {phase: 2}
  p2_b: {phase: 2}
  p2_c: {phase: 2}
  p2_d: {phase: 2}
  p2_e: {phase: 2}
transitions:
  t23:
    from_phase: 2
    to_phase: 3
    collection: c23
    deadline_minutes: 240
"""


def registry(body: str) -> str:
    return BASE + textwrap.indent(textwrap.dedent(body).lstrip("\n"), "    ")


def pg112(text: str) -> list[tuple[int, int, str]]:
    return [(f.line, f.column, f.message) for f in findings_for(text) if f.rule == "PG112"]


def at(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """1-based line and column of the ``nth`` occurrence of ``needle`` in ``text``."""
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def where(found: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    return [(line, column) for line, column, _ in found]


GOOD = """
action: trigger
trigger_topic: go
required: [p2_a]
auto_heal: true
policy:
  - {after: 0m, min: all}
  - {after: 30m, min: 4}
  - {after: 2h, min: "60%"}
  - {after: 3h, min: required}
modes:
  late: {when: before_today, expects: [p2_a, p2_b]}
"""


def test_a_relaxing_policy_before_the_deadline_is_clean() -> None:
    assert findings_for(registry(GOOD)) == []


def test_the_reference_registry_is_clean() -> None:
    loaded = load_registry(REFERENCE_REGISTRY)
    assert loaded.registry is not None
    from phasegate.validator.check import check_loaded

    assert [f for f in check_loaded(loaded) if f.rule == "PG112"] == []


@pytest.mark.parametrize("second", ["30m", "20m", "0h30m"])
def test_after_not_strictly_increasing(second: str) -> None:
    text = registry(f"""
        action: trigger
        trigger_topic: go
        policy:
          - {{after: 30m, min: 4}}
          - {{after: {second}, min: 3}}
        """)
    [(line, column, message)] = pg112(text)
    assert (line, column) == at(text, second, 1 if second == "30m" else 0)
    assert f"tier 1 (after {second}) is not later than tier 0 (after 30m)" in message


@pytest.mark.parametrize("after,late", [("59m", False), ("1h", True), ("90m", True),
                                        ("3599s", False), ("3600s", True)])
def test_a_tier_at_or_past_the_deadline(after: str, late: bool) -> None:
    text = registry(f"""
        action: trigger
        trigger_topic: go
        deadline_minutes: 60
        grace_minutes: 20
        policy: [{{after: {after}, min: 1}}]
        """)
    found = pg112(text)
    if not late:
        assert found == []
        return
    [(line, column, message)] = found
    assert (line, column) == at(text, after)
    assert "deadline_minutes 60" in message and "auto_heal" in message


def test_min_increasing_for_the_transition() -> None:
    text = registry("""
        action: trigger
        trigger_topic: go
        policy:
          - {after: 30m, min: 3}
          - {after: 1h, min: "80%"}
          - {after: 2h, min: all}
        """)
    found = pg112(text)
    assert where(found) == [at(text, '"80%"'), at(text, "all")]
    assert "needs 4 complete (5 expected, 0 required), more than tier 0" in found[0][2]
    assert "needs 5 complete" in found[1][2] and "more than tier 1" in found[1][2]


def test_min_increasing_only_in_a_mode_names_the_mode() -> None:
    text = registry("""
        action: trigger
        trigger_topic: go
        policy:
          - {after: 30m, min: "50%"}
          - {after: 1h, min: 2}
        modes:
          late: {when: before_today, expects: [p2_a, p2_b]}
        """)
    [(line, column, message)] = pg112(text)
    line_of, column_of = at(text, "min: 2}")
    assert (line, column) == (line_of, column_of + len("min: "))
    assert "in mode late (2 expected, 0 required)" in message


def test_min_counts_the_required_ones() -> None:
    """Required ones are always included: min 1 after required (3 of them) asks for no more."""
    text = registry("""
        action: trigger
        trigger_topic: go
        required: [p2_a, p2_b, p2_c]
        policy:
          - {after: 30m, min: required}
          - {after: 1h, min: 1}
          - {after: 2h, min: 4}
        """)
    found = pg112(text)
    assert where(found) == [at(text, "4}")]
    assert "needs 4 complete (5 expected, 3 required)" in found[0][2]


def test_min_required_with_nothing_required_still_needs_one() -> None:
    text = registry("""
        action: trigger
        trigger_topic: go
        policy:
          - {after: 30m, min: required}
          - {after: 1h, min: 1}
        """)
    assert pg112(text) == []


def test_a_count_above_the_expected_means_all() -> None:
    text = registry("""
        action: trigger
        trigger_topic: go
        policy:
          - {after: 30m, min: 9}
          - {after: 1h, min: all}
          - {after: 2h, min: 5}
        """)
    assert pg112(text) == []


def test_policy_and_target_on_monitor_never_fire() -> None:
    text = registry("""
        action: monitor
        policy: [{after: 30m, min: 3}]
        target: {pubsub: {topic: go, message: {d: "{run_key}"}}}
        """)
    found = pg112(text)
    assert where(found) == [at(text, "policy"), at(text, "target")]
    assert all("action: monitor never fires" in message for _, _, message in found)


def test_trigger_topic_on_monitor_stays_allowed() -> None:
    """As before targets existed: a monitor's trigger_topic is not new, and not PG112's."""
    assert pg112(registry("action: monitor\ntrigger_topic: go\n")) == []


def test_template_problems_name_their_path_and_stand_at_their_value() -> None:
    text = registry("""
        action: trigger
        target:
          pubsub:
            topic: go
            message:
              game_date: "{date}"
              who: "{processor}"
              day: 2026-02-10
              score: .inf
              ids: ["{run_key}", "{completed", {deep: "{mode}"}]
              7: seven
              ok: "{{literal}} {run_key} {missing}"
        """)
    found = pg112(text)
    expected = [
        (at(text, '"{date}"'), "message.game_date: unknown placeholder {date}"),
        (at(text, '"{processor}"'), "message.who: {processor} needs each: completed"),
        (at(text, "2026-02-10"), "message.day: datetime.date(2026, 2, 10) (date) renders to "
                                 "no JSON value"),
        (at(text, ".inf"), "message.score: inf is not a JSON number"),
        (at(text, '"{completed"'), "message.ids[1]: '{completed' has a lone brace"),
        (at(text, "7: seven"), "message.7: a key is int 7; JSON keys are text"),
    ]
    assert where(found) == [position for position, _ in expected], found
    for (_, _, message), (_, words) in zip(found, expected, strict=True):
        assert message.startswith("transition t23 target pubsub ")
        assert words in message, message


def test_processor_with_each_completed_and_an_http_target() -> None:
    text = registry("""
        action: trigger
        target:
          http:
            url_env: TARGET_URL
            each: completed
            message: {processor: "{processor}", when: "{run_key}", bad: "{proc}"}
        """)
    [(line, column, message)] = pg112(text)
    assert (line, column) == at(text, '"{proc}"')
    assert message.startswith("transition t23 target http message.bad: unknown placeholder")


def test_each_problem_is_its_own_finding_and_other_rules_still_run() -> None:
    text = registry("""
        action: trigger
        expects: [p2_a, p2_x]
        policy:
          - {after: 2h, min: 1}
          - {after: 1h, min: 2}
        target: {pubsub: {topic: go, message: {a: "{b}"}}}
        """)
    rules = sorted(f.rule for f in findings_for(text))
    assert rules == ["PG101", "PG112", "PG112", "PG112"], rules
