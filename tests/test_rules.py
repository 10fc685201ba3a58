"""Each rule fails at the exact line and column, and passes on the corrected text."""

from __future__ import annotations

import pytest

from tests.conftest import REFERENCE_REGISTRY, codes_at, findings_for

HEAD = """\
version: 1
pipeline: demo
timezone: UTC
"""


def test_reference_registry_is_clean():
    text = REFERENCE_REGISTRY.read_text(encoding="utf-8")
    assert findings_for(text) == []


# PG001 ---------------------------------------------------------------------

def test_pg001_unclosed_bracket():
    assert codes_at(HEAD + "processors:\n  p2_a: {phase: 2, inputs: [x\n") == [("PG001", 6, 1)]


def test_pg001_bad_indentation_points_at_the_line():
    text = HEAD + "processors:\n  p2_a:\n    phase: 2\n   inputs: []\n"
    assert codes_at(text)[0][:2] == ("PG001", 7)


def test_pg001_two_documents():
    result = codes_at(HEAD + "processors: {}\n---\nversion: 1\n")
    assert [code for code, *_ in result] == ["PG001"]


def test_pg001_passes_on_valid_yaml():
    assert codes_at(HEAD + "processors:\n  p2_a: {phase: 2, inputs: []}\n") == []


# PG002 ---------------------------------------------------------------------

def test_pg002_duplicate_processor_points_at_second_key():
    text = HEAD + "processors:\n  p2_a: {phase: 2}\n  p2_b: {phase: 2}\n  p2_a: {phase: 2}\n"
    findings = findings_for(text)
    assert [(f.rule, f.line, f.column) for f in findings] == [("PG002", 7, 3)]
    assert "first defined at line 5" in findings[0].message


def test_pg002_duplicate_top_level_key():
    text = HEAD + "processors:\n  p2_a: {phase: 2}\ntimezone: UTC\n"
    assert codes_at(text) == [("PG002", 6, 1)]


def test_pg002_passes_without_duplicates():
    assert codes_at(HEAD + "processors:\n  p2_a: {phase: 2}\n  p2_b: {phase: 2}\n") == []


# PG003 ---------------------------------------------------------------------

def test_pg003_ambiguous_boolean_once_at_value():
    findings = findings_for(HEAD + "processors:\n  p2_a:\n    phase: 2\n    enabled: no\n")
    assert [(f.rule, f.line, f.column) for f in findings] == [("PG003", 7, 14)]
    assert "ambiguous boolean 'no'" in findings[0].message


def test_pg003_unknown_field_with_suggestion_at_key():
    findings = findings_for(HEAD + "processors:\n  p2_a:\n    phase: 2\n    enabeld: true\n")
    assert [(f.rule, f.line, f.column) for f in findings] == [("PG003", 7, 5)]
    assert "did you mean 'enabled'" in findings[0].message


def test_pg003_missing_field_points_at_parent():
    findings = findings_for(HEAD + "processors:\n  p2_a:\n    inputs: []\n")
    assert [(f.rule, f.line, f.column) for f in findings] == [("PG003", 5, 3)]
    assert "missing required field 'phase'" in findings[0].message


def test_pg003_wrong_type():
    assert codes_at(HEAD + "processors:\n  p2_a: {phase: two}\n") == [("PG003", 5, 17)]


def test_pg003_trigger_without_topic():
    text = HEAD + (
        "processors:\n  p2_a: {phase: 2}\ntransitions:\n  t:\n    from_phase: 2\n"
        "    to_phase: 3\n    collection: c\n    action: trigger\n"
    )
    findings = findings_for(text)
    assert [f.rule for f in findings] == ["PG003"]
    assert "trigger_topic is required" in findings[0].message


def test_pg003_url_in_registry_is_refused():
    text = HEAD + (
        "processors:\n  p2_a: {phase: 2}\ncanary:\n  notify:\n"
        "    - slack: {url_env: 'https://hooks.slack.com/services/T0/B0/x'}\n"
    )
    findings = findings_for(text)
    assert [(f.rule, f.line, f.column) for f in findings] == [("PG003", 8, 24)]
    assert "never in the registry" in findings[0].message


def test_pg003_registry_that_is_a_list():
    findings = findings_for("- version: 1\n")
    assert [(f.rule, f.line, f.column) for f in findings] == [("PG003", 1, 1)]
    assert "found a list" in findings[0].message


def test_pg003_expects_neither_all_nor_list():
    text = HEAD + (
        "processors:\n  p2_a: {phase: 2}\ntransitions:\n  t:\n    from_phase: 2\n"
        "    to_phase: 3\n    collection: c\n    expects: alll\n"
    )
    findings = findings_for(text)
    assert [(f.rule, f.line, f.column) for f in findings] == [("PG003", 11, 14)]
    assert "must be 'all' or a list" in findings[0].message


def test_pg003_passes_with_true():
    assert codes_at(HEAD + "processors:\n  p2_a:\n    phase: 2\n    enabled: true\n") == []


# PG101 ---------------------------------------------------------------------

TRANSITION = """\
transitions:
  phase2_to_phase3:
    from_phase: 2
    to_phase: 3
    collection: phase2_completion
"""


def test_pg101_misspelt_expected_name_suggests_closest():
    text = HEAD + "processors:\n  p2_gamebook: {phase: 2}\n" + TRANSITION + (
        "    expects: [p2_gamebok]\n")
    findings = findings_for(text)
    assert [(f.rule, f.line, f.column) for f in findings] == [("PG101", 11, 15)]
    assert "did you mean 'p2_gamebook'" in findings[0].message


def test_pg101_unknown_input():
    text = HEAD + "scrapers:\n  gamebook_pdf: {}\nprocessors:\n  p2_gamebook:\n" \
        "    phase: 2\n    inputs: [gamebook_pfd]\n"
    findings = findings_for(text)
    assert [(f.rule, f.line, f.column) for f in findings] == [("PG101", 9, 14)]
    assert "did you mean 'gamebook_pdf'" in findings[0].message


def test_pg101_alias_in_expects_names_canonical():
    text = HEAD + "processors:\n  p2_gamebook: {phase: 2, aliases: [GamebookProcessor]}\n" \
        + TRANSITION + "    required: [GamebookProcessor]\n"
    findings = findings_for(text)
    assert [(f.rule, f.line, f.column) for f in findings] == [("PG101", 11, 16)]
    assert "alias of p2_gamebook" in findings[0].message


def test_pg101_unknown_name_in_mode():
    text = HEAD + "processors:\n  p2_gamebook: {phase: 2}\n" + TRANSITION + (
        "    modes:\n      same_day: {when: today, expects: [p2_nope]}\n")
    assert codes_at(text) == [("PG101", 12, 41)]


def test_pg101_passes():
    text = HEAD + "processors:\n  p2_gamebook: {phase: 2}\n" + TRANSITION + (
        "    expects: [p2_gamebook]\n")
    assert codes_at(text) == []


# PG102 ---------------------------------------------------------------------

DISABLED = HEAD + """\
scrapers:
  bdl_box_scores:
    enabled: false
    disabled_reason: Ball Don't Lie API retired
    disabled_on: 2026-02-07
processors:
  p2_gamebook: {phase: 2}
  p2_bdl_box_scores: {phase: 2, enabled: false, disabled_reason: scraper gone, inputs: [bdl_box_scores]}
""" + TRANSITION


def test_pg102_names_scraper_reason_date_and_line():
    findings = findings_for(DISABLED + "    expects:\n      - p2_gamebook\n      - p2_bdl_box_scores\n")
    assert [(f.rule, f.line, f.column) for f in findings] == [("PG102", 19, 9)]
    message = findings[0].message
    assert "bdl_box_scores is disabled: Ball Don't Lie API retired, since 2026-02-07" in message
    assert "line 19" in message


def test_pg102_disabled_only_through_its_input():
    text = DISABLED.replace(
        "p2_bdl_box_scores: {phase: 2, enabled: false, disabled_reason: scraper gone, "
        "inputs: [bdl_box_scores]}",
        "p2_bdl_box_scores: {phase: 2, inputs: [bdl_box_scores]}",
    ) + "    required: [p2_bdl_box_scores]\n"
    codes = codes_at(text)
    assert ("PG102", 17, 16) in codes  # and PG103 at the input, reported separately
    assert ("PG103", 11, 42) in codes


def test_pg102_passes_with_all():
    assert codes_at(DISABLED + "    expects: all\n") == []


# PG103 ---------------------------------------------------------------------

def test_pg103_enabled_processor_with_disabled_scraper():
    text = HEAD + "scrapers:\n  gone: {enabled: false, disabled_reason: retired}\n" \
        "processors:\n  p2_gone:\n    phase: 2\n    inputs: [gone]\n"
    findings = findings_for(text)
    assert [(f.rule, f.line, f.column) for f in findings] == [("PG103", 9, 14)]
    assert "retired" in findings[0].message


def test_pg103_passes_when_disabled_explicitly():
    text = HEAD + "scrapers:\n  gone: {enabled: false, disabled_reason: retired}\n" \
        "processors:\n  p2_gone:\n    phase: 2\n    inputs: [gone]\n    enabled: false\n" \
        "    disabled_reason: input retired\n"
    assert codes_at(text) == []


# PG104 ---------------------------------------------------------------------

def test_pg104_alias_claimed_twice():
    text = HEAD + "processors:\n  p2_a: {phase: 2, aliases: [Shared]}\n" \
        "  p2_b: {phase: 2, aliases: [Shared]}\n"
    findings = findings_for(text)
    assert [(f.rule, f.line, f.column) for f in findings] == [("PG104", 6, 30)]
    assert "already by p2_a (line 5)" in findings[0].message


def test_pg104_alias_equal_to_other_processor_name():
    text = HEAD + "processors:\n  p2_a: {phase: 2, aliases: [p2_b]}\n  p2_b: {phase: 2}\n"
    assert codes_at(text) == [("PG104", 5, 30)]


def test_pg104_passes():
    text = HEAD + "processors:\n  p2_a: {phase: 2, aliases: [A]}\n  p2_b: {phase: 2, aliases: [B]}\n"
    assert codes_at(text) == []


# PG105 ---------------------------------------------------------------------

def test_pg105_season_level_expected():
    text = HEAD + "processors:\n  p2_a: {phase: 2}\n  p2_sched: {phase: 2, per_run_key: false}\n" \
        + TRANSITION + "    expects: [p2_a, p2_sched]\n"
    assert codes_at(text) == [("PG105", 12, 21)]


def test_pg105_passes_with_all_excluding_it():
    text = HEAD + "processors:\n  p2_a: {phase: 2}\n  p2_sched: {phase: 2, per_run_key: false}\n" \
        + TRANSITION + "    expects: all\n"
    assert codes_at(text) == []


# PG106 ---------------------------------------------------------------------

def test_pg106_all_with_nothing_enabled():
    text = HEAD + "processors:\n  p2_sched: {phase: 2, per_run_key: false}\n" + TRANSITION
    findings = findings_for(text)
    # expects is not written: the finding points at the transition itself
    assert [(f.rule, f.line, f.column) for f in findings] == [("PG106", 7, 3)]
    assert "phase 2 has no enabled per-run-key processor" in findings[0].message


def test_pg106_empty_mode_list():
    text = HEAD + "processors:\n  p2_a: {phase: 2}\n" + TRANSITION + (
        "    modes:\n      same_day: {when: today, expects: []}\n")
    assert codes_at(text) == [("PG106", 12, 40)]


def test_pg106_passes():
    assert codes_at(HEAD + "processors:\n  p2_a: {phase: 2}\n" + TRANSITION) == []


# PG107 ---------------------------------------------------------------------

def test_pg107_wrong_phase_processor():
    text = HEAD + "processors:\n  p2_a: {phase: 2}\n  p3_a: {phase: 3}\n" + TRANSITION + (
        "    expects: [p2_a, p3_a]\n")
    assert codes_at(text) == [("PG107", 12, 21)]


def test_pg107_to_phase_not_after_from_phase():
    text = HEAD + "processors:\n  p2_a: {phase: 2}\n" + TRANSITION.replace("to_phase: 3", "to_phase: 2")
    assert codes_at(text) == [("PG107", 9, 15)]


def test_pg107_passes():
    text = HEAD + "processors:\n  p2_a: {phase: 2}\n  p3_a: {phase: 3}\n" + TRANSITION + (
        "    expects: [p2_a]\n")
    assert codes_at(text) == []


# PG108 ---------------------------------------------------------------------

def test_pg108_required_outside_expected():
    text = HEAD + "processors:\n  p2_a: {phase: 2}\n  p2_b: {phase: 2}\n" + TRANSITION + (
        "    expects: [p2_a]\n    required: [p2_b]\n")
    assert codes_at(text) == [("PG108", 13, 16)]


def test_pg108_mode_expects_outside_transition():
    text = HEAD + "processors:\n  p2_a: {phase: 2}\n  p2_b: {phase: 2}\n" + TRANSITION + (
        "    expects: [p2_a]\n    modes:\n      same_day:\n        when: today\n"
        "        expects: [p2_b]\n")
    assert codes_at(text) == [("PG108", 16, 19)]


def test_pg108_mode_required_outside_mode_expected():
    text = HEAD + "processors:\n  p2_a: {phase: 2}\n  p2_b: {phase: 2}\n" + TRANSITION + (
        "    modes:\n      same_day:\n        when: today\n        expects: [p2_a]\n"
        "        required: [p2_b]\n")
    assert codes_at(text) == [("PG108", 16, 20)]


def test_pg108_passes():
    text = HEAD + "processors:\n  p2_a: {phase: 2}\n  p2_b: {phase: 2}\n" + TRANSITION + (
        "    required: [p2_b]\n")
    assert codes_at(text) == []


# PG109 ---------------------------------------------------------------------

def test_pg109_warns_at_enabled_flag():
    text = HEAD + "processors:\n  p2_a: {phase: 2}\n  p2_b:\n    phase: 2\n    enabled: false\n"
    findings = findings_for(text)
    assert [(f.rule, f.line, f.column, f.severity.value) for f in findings] == [
        ("PG109", 8, 14, "warning")]


def test_pg109_passes_with_reason():
    text = HEAD + "processors:\n  p2_a: {phase: 2}\n  p2_b:\n    phase: 2\n    enabled: false\n" \
        "    disabled_reason: replaced by p2_a\n"
    assert codes_at(text) == []


# PG110 ---------------------------------------------------------------------

def test_pg110_grace_shorter_than_interval():
    text = HEAD + "processors:\n  p2_a: {phase: 2}\n" + TRANSITION + "    grace_minutes: 10\n"
    findings = findings_for(text)
    assert [(f.rule, f.line, f.column) for f in findings] == [("PG110", 11, 20)]
    assert "15-minute interval" in findings[0].message


def test_pg110_deadline_not_after_grace():
    text = HEAD + "processors:\n  p2_a: {phase: 2}\n" + TRANSITION + (
        "    grace_minutes: 60\n    deadline_minutes: 60\n")
    assert codes_at(text) == [("PG110", 12, 23)]


@pytest.mark.parametrize("schedule", ["'*/15 * * *'", "'² * * * *'", "'*/0 * * * *'"])
def test_pg003_bad_cron_is_an_error(schedule):
    text = HEAD + f"processors:\n  p2_a: {{phase: 2}}\ncanary:\n  schedule: {schedule}\n"
    assert codes_at(text) == [("PG003", 7, 13)]


@pytest.mark.parametrize("number", [".inf", "-.inf", ".nan", ".NaN"])
def test_pg003_non_finite_numbers(number):
    text = HEAD + f"processors:\n  p2_a: {{phase: 2}}\ncanary:\n  renotify_hours: {number}\n"
    assert [code for code, *_ in codes_at(text)] == ["PG003"]


def test_pg110_hourly_schedule_makes_default_grace_short():
    text = HEAD + "processors:\n  p2_a: {phase: 2}\n" + TRANSITION + "canary:\n  schedule: '0 * * * *'\n"
    assert [code for code, *_ in codes_at(text)] == ["PG110"]


def test_pg110_early_slack_not_shorter_than_a_deadline():
    text = HEAD + "processors:\n  p2_a: {phase: 2}\n" + TRANSITION + (
        "    deadline_minutes: 60\ncanary:\n  early: {slack_minutes: 60}\n")
    findings = findings_for(text)
    assert [(f.rule, f.line, f.column) for f in findings] == [("PG110", 13, 26)]
    assert "phase2_to_phase3 (60)" in findings[0].message
    fixed = text.replace("slack_minutes: 60", "slack_minutes: 59")
    assert codes_at(fixed) == []
    # the learned rule off: the slack means nothing
    assert codes_at(text.replace("{slack_minutes: 60}", "{slack_minutes: 60, learn_days: 0}")) \
        == []


def test_pg110_early_cannot_learn_or_alerts_on_the_last_one():
    text = HEAD + "processors:\n  p2_a: {phase: 2}\ncanary:\n  early:\n    learn_days: 4\n" \
        "    silent_run_keys: 1\n"
    findings = findings_for(text)
    assert [(f.rule, f.line) for f in findings] == [("PG110", 8), ("PG110", 9)]
    assert "min_samples 5 is more than learn_days 4" in findings[0].message
    assert "silent_run_keys 1" in findings[1].message


@pytest.mark.parametrize("setting", ["min_samples: 2", "learn_days: -1", "slack_minutes: 0",
                                     "silent_run_keys: -1", "learn_days: 367",
                                     "slack_minutes: 1.5", "min_samples: true", "often: 3"])
def test_pg003_early_settings_out_of_range(setting):
    text = HEAD + f"processors:\n  p2_a: {{phase: 2}}\ncanary:\n  early: {{{setting}}}\n"
    assert [code for code, *_ in codes_at(text)] == ["PG003"]


def test_pg110_passes():
    text = HEAD + "processors:\n  p2_a: {phase: 2}\n" + TRANSITION + "    grace_minutes: 15\n"
    assert codes_at(text) == []


# PG111 ---------------------------------------------------------------------

def test_pg111_cycle():
    text = HEAD + "processors:\n  p3_a: {phase: 3, inputs: [p3_b]}\n  p3_b: {phase: 3, inputs: [p3_a]}\n"
    findings = findings_for(text)
    assert [(f.rule, f.line, f.column) for f in findings] == [("PG111", 6, 29)]
    assert "p3_a -> p3_b -> p3_a" in findings[0].message


def test_pg111_self_cycle():
    text = HEAD + "processors:\n  p3_a: {phase: 3, inputs: [p3_a]}\n"
    assert codes_at(text) == [("PG111", 5, 29)]


def test_pg111_passes():
    text = HEAD + "processors:\n  p3_a: {phase: 3}\n  p3_b: {phase: 3, inputs: [p3_a]}\n"
    assert codes_at(text) == []
