"""Effective enablement, expected sets, aliases and the digest on the reference registry."""

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
from tests.conftest import REFERENCE_REGISTRY


@pytest.fixture(scope="module")
def reference() -> Registry:
    loaded = load_registry(REFERENCE_REGISTRY)
    assert loaded.registry is not None, loaded.problems
    return loaded.registry


def parse(text: str) -> Registry:
    loaded = load_registry_text(textwrap.dedent(text))
    assert loaded.registry is not None, loaded.problems
    return loaded.registry


def test_disabled_scraper_disables_its_processor(reference):
    enabled = effective_enablement(reference)
    assert enabled["bdl_box_scores"] is False
    assert enabled["p2_bdl_box_scores"] is False
    assert enabled["p2_nbacom_gamebook_pdf"] is True


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


def test_phase2_expected_set_excludes_disabled_and_season_level(reference):
    transition = reference.transitions["phase2_to_phase3"]
    assert expected_set(reference, transition) == {
        "p2_nbacom_gamebook_pdf", "p2_nbacom_boxscores", "p2_odds_game_lines",
        "p2_odds_player_props", "p2_bigdataball_pbp",
    }
    assert required_set(reference, transition) == {
        "p2_nbacom_gamebook_pdf", "p2_nbacom_boxscores", "p2_odds_game_lines",
    }


def test_phase3_modes(reference):
    transition = reference.transitions["phase3_to_phase4"]
    overnight = transition.modes["overnight"]
    same_day = transition.modes["same_day"]
    assert len(expected_set(reference, transition, overnight)) == 5
    assert required_set(reference, transition, overnight) == {
        "player_game_summary", "upcoming_player_game_context"}
    assert expected_set(reference, transition, same_day) == {"upcoming_player_game_context"}
    # without required, a mode requires everything it expects
    assert required_set(reference, transition, same_day) == {"upcoming_player_game_context"}


def test_alias_map_resolves_aliases_and_canonical_names(reference):
    aliases = alias_map(reference)
    assert aliases["NbacGamebookProcessor"] == "p2_nbacom_gamebook_pdf"
    assert aliases["OddsApiPropsBatchProcessor"] == "p2_odds_player_props"
    assert aliases["p2_odds_player_props"] == "p2_odds_player_props"
    assert "NbacGambookProcessor" not in aliases


def test_digest_ignores_comments_order_and_spelled_out_defaults(reference):
    text = REFERENCE_REGISTRY.read_text(encoding="utf-8")
    reordered = text.replace("# phase 2: raw processors", "# a different comment")
    reordered = reordered.replace(
        "  p2_nbacom_gamebook_pdf:\n    phase: 2\n",
        "  p2_nbacom_gamebook_pdf:\n    enabled: true\n    per_run_key: true\n    phase: 2\n",
    )
    other = load_registry_text(reordered).registry
    assert other is not None
    assert digest(other) == digest(reference)


def test_digest_changes_with_meaning(reference):
    text = REFERENCE_REGISTRY.read_text(encoding="utf-8")
    changed = load_registry_text(text.replace("deadline_minutes: 240", "deadline_minutes: 241", 1))
    assert changed.registry is not None
    assert digest(changed.registry) != digest(reference)
    assert len(digest(reference)) == 64


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


def _reference_with(edit):
    import re

    from tests.conftest import REFERENCE_REGISTRY

    text = re.sub(*edit, REFERENCE_REGISTRY.read_text(), count=1)
    loaded = load_registry_text(text, "registry/processors.yaml")
    assert loaded.registry is not None, edit
    return loaded.registry


def _digests(registry):
    from phasegate.registry.semantics import digest, transition_digest

    return digest(registry), {name: transition_digest(registry, name)
                              for name in registry.transitions}


def test_a_canary_only_edit_changes_no_transition_digest():
    before_registry, before = _digests(_reference_with((r"^$", "")))
    after_registry, after = _digests(_reference_with((r"renotify_hours: \d+", "renotify_hours: 12")))
    assert after_registry != before_registry  # the registry did change
    assert after == before  # but no transition's behaviour did: nothing goes STALE


def test_editing_one_transition_leaves_the_others_digests_alone():
    _, before = _digests(_reference_with((r"^$", "")))
    _, after = _digests(_reference_with((r"trigger_topic: nba-phase4-trigger",
                                         "trigger_topic: nba-phase4-trigger-v2")))
    assert after["phase3_to_phase4"] != before["phase3_to_phase4"]
    assert after["phase2_to_phase3"] == before["phase2_to_phase3"]


def test_disabling_an_upstream_scraper_changes_the_transition_digest():
    _, before = _digests(_reference_with((r"^$", "")))
    _, after = _digests(_reference_with((r"(nbac_gamebook_pdf:\n\s+enabled:) true",
                                         r"\1 false\n    disabled_reason: feed moved")))
    assert after["phase2_to_phase3"] != before["phase2_to_phase3"]


def test_spelling_out_a_default_changes_no_digest():
    before = _digests(_reference_with((r"^$", "")))
    after = _digests(_reference_with((r"\ngenerate:", "\ndeploy: {max_delivery_attempts: 10}\n"
                                                     "generate:")))
    assert after == before


def test_reordering_a_name_list_changes_no_digest():
    before = _digests(_reference_with((r"^$", "")))
    after = _digests(_reference_with((r"aliases: \[BdlBoxscoresProcessor, BdlPlayerBoxScoresProcessor\]",
                                      "aliases: [BdlPlayerBoxScoresProcessor, BdlBoxscoresProcessor]")))
    assert after == before
