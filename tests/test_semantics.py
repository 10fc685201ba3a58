"""Effective enablement, expected sets, aliases and the digest, on the small test registry."""

from __future__ import annotations

import textwrap

import pytest

from phasegate.registry.cron import CronError, longest_gap_minutes
from phasegate.registry.loading import load_registry, load_registry_text
from phasegate.registry.models import Registry
from phasegate.registry.semantics import (
    alias_map,
    digest,
    disabled_causes,
    effective_enablement,
    expected_set,
    required_set,
)
from tests.registries import SMALL_PATH, SMALL_TEXT, edited, load_small


@pytest.fixture(scope="module")
def small() -> Registry:
    loaded = load_registry(SMALL_PATH)
    assert loaded.registry is not None, loaded.problems
    return loaded.registry


def parse(text: str) -> Registry:
    loaded = load_registry_text(textwrap.dedent(text))
    assert loaded.registry is not None, loaded.problems
    return loaded.registry


def test_disabled_scraper_disables_its_processor(small):
    enabled = effective_enablement(small)
    assert enabled["feed_retired"] is False
    assert enabled["p2_retired"] is False
    assert enabled["p2_box"] is True


def test_enablement_propagates_through_processor_chains():
    registry = parse("""
        version: 1
        pipeline: t
        timezone: UTC
        scrapers: {s: {enabled: false}}
        processors:
          p2_a: {phase: 2, inputs: [s]}
          p3_b: {phase: 3, inputs: [p2_a]}
          p4_c: {phase: 4, inputs: [p3_b]}
    """)
    enabled = effective_enablement(registry)
    assert [enabled[n] for n in ("p2_a", "p3_b", "p4_c")] == [False, False, False]
    [cause] = disabled_causes(registry, "p4_c")
    assert cause.name == "s" and cause.chain == ("p4_c", "p3_b", "p2_a", "s")


def test_cycle_does_not_hang_enablement():
    registry = parse("""
        version: 1
        pipeline: t
        timezone: UTC
        processors:
          p3_a: {phase: 3, inputs: [p3_b]}
          p3_b: {phase: 3, inputs: [p3_a]}
    """)
    assert effective_enablement(registry) == {"p3_a": True, "p3_b": True}


def test_phase2_expected_set_excludes_disabled_and_season_level(small):
    transition = small.transitions["phase2_to_phase3"]
    # p2_retired is disabled, p2_schedule is season-level: neither is expected
    assert expected_set(small, transition) == {"p2_box", "p2_sheet", "p2_lines", "p2_props"}
    assert required_set(small, transition) == {"p2_box", "p2_sheet"}


def test_phase3_modes(small):
    transition = small.transitions["phase3_to_phase4"]
    overnight = transition.modes["overnight"]
    same_day = transition.modes["same_day"]
    assert expected_set(small, transition, overnight) == {
        "game_summary", "team_summary", "game_context"}
    assert required_set(small, transition, overnight) == {"game_summary", "game_context"}
    assert expected_set(small, transition, same_day) == {"game_context"}
    # without required, a mode requires everything it expects
    assert required_set(small, transition, same_day) == {"game_context"}


def test_alias_map_resolves_aliases_and_canonical_names(small):
    aliases = alias_map(small)
    assert aliases["BoxProcessor"] == "p2_box"
    assert aliases["LinesBatchProcessor"] == "p2_lines"
    assert aliases["p2_lines"] == "p2_lines"
    assert "BoxProcesor" not in aliases


def test_digest_ignores_comments_order_and_spelled_out_defaults(small):
    reordered = edited(
        ("# phase 2: raw processors", "# a different comment"),
        ("  p2_box:\n    phase: 2\n",
         "  p2_box:\n    enabled: true\n    per_run_key: true\n    phase: 2\n"),
    )
    other = load_registry_text(reordered).registry
    assert other is not None
    assert digest(other) == digest(small)


def test_digest_changes_with_meaning(small):
    changed = load_registry_text(edited(("deadline_minutes: 240", "deadline_minutes: 241")))
    assert changed.registry is not None
    assert digest(changed.registry) != digest(small)
    assert len(digest(small)) == 64


@pytest.mark.parametrize("schedule,gap", [
    ("*/15 * * * *", 15), ("0 * * * *", 60), ("0,30 9-17 * * 1-5", 930), ("5 4 * * sun", 1440),
])
def test_cron_longest_gap(schedule, gap):
    assert longest_gap_minutes(schedule) == gap


@pytest.mark.parametrize("schedule", ["* * * *", "61 * * * *", "*/0 * * * *", "5-1 * * * *",
                                      "x * * * *"])
def test_cron_rejects_bad_expressions(schedule):
    with pytest.raises(CronError):
        longest_gap_minutes(schedule)


def _small_with(edit=None):
    """The small registry, or a copy with one ``re.sub`` edit (which must change it)."""
    return load_small(SMALL_TEXT if edit is None else edited(edit))


def _digests(registry):
    from phasegate.registry.semantics import digest, transition_digest

    return digest(registry), {name: transition_digest(registry, name)
                              for name in registry.transitions}


def test_a_canary_only_edit_changes_no_transition_digest():
    before_registry, before = _digests(_small_with())
    after_registry, after = _digests(_small_with((r"renotify_hours: \d+", "renotify_hours: 12")))
    assert after_registry != before_registry  # the registry did change
    assert after == before  # but no transition's behaviour did: nothing goes STALE


def test_editing_one_transition_leaves_the_others_digests_alone():
    _, before = _digests(_small_with())
    _, after = _digests(_small_with((r"trigger_topic: small-phase4-trigger",
                                     "trigger_topic: small-phase4-trigger-v2")))
    assert after["phase3_to_phase4"] != before["phase3_to_phase4"]
    assert after["phase2_to_phase3"] == before["phase2_to_phase3"]


def test_disabling_an_upstream_scraper_changes_the_transition_digest():
    _, before = _digests(_small_with())
    _, after = _digests(_small_with((r"(feed_box:\n\s+enabled:) true",
                                     r"\1 false\n    disabled_reason: feed moved")))
    assert after["phase2_to_phase3"] != before["phase2_to_phase3"]


def test_spelling_out_a_default_changes_no_digest():
    before = _digests(_small_with())
    after = _digests(_small_with((r"\ndeploy:\n", "\ndeploy:\n  max_delivery_attempts: 10\n")))
    assert after == before


def test_reordering_a_name_list_changes_no_digest():
    before = _digests(_small_with())
    after = _digests(_small_with((r"aliases: \[RetiredProcessor, RetiredBatchProcessor\]",
                                  "aliases: [RetiredBatchProcessor, RetiredProcessor]")))
    assert after == before
