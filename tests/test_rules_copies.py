"""PG202 copied-expectation, PG208 drifted-copy and PG204's exemptions, on small trees."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from phasegate.registry.loading import load_registry
from phasegate.validator.check import check_loaded
from phasegate.validator.findings import Finding, Severity

REGISTRY = """\
version: 1
pipeline: demo
timezone: UTC
scrapers:
  bdl_feed: {enabled: false, disabled_reason: Ball Don't Lie API retired}
processors:
  p2_gamebook: {phase: 2}
  p2_boxscores: {phase: 2}
  p2_odds_game_lines: {phase: 2}
  p2_injuries: {phase: 2, aliases: [InjuriesProcessor]}
  p2_bdl_box_scores:
    phase: 2
    enabled: false
    disabled_reason: input retired
    inputs: [bdl_feed]
    aliases: [BdlBoxScoresProcessor]
transitions:
  phase2_to_phase3:
    from_phase: 2
    to_phase: 3
    collection: phase2_completion
    required: [p2_gamebook, p2_boxscores, p2_injuries]
references:
  code: [monitoring]
generate:
  - {path: orchestrator/expected_processors.py, format: python}
"""
EXPECTED = ["p2_gamebook", "p2_boxscores", "p2_odds_game_lines", "p2_injuries"]


def run(root: Path, code: str, registry: str = REGISTRY) -> list[Finding]:
    (root / "registry").mkdir(exist_ok=True)
    (root / "registry" / "processors.yaml").write_text(registry)
    (root / "monitoring").mkdir(exist_ok=True)
    (root / "monitoring" / "check.py").write_text(textwrap.dedent(code))
    loaded = load_registry(root / "registry" / "processors.yaml", "registry/processors.yaml")
    return [f for f in check_loaded(loaded, root) if f.rule not in ("PG201", "PG205")]


def quoted(names: list[str]) -> str:
    return ", ".join(repr(n) for n in names)


@pytest.mark.parametrize("literal", [
    f"[{quoted(EXPECTED)}]",
    f"({quoted(list(reversed(EXPECTED)))})",
    f"{{{quoted(EXPECTED)}}}",
    "{" + ", ".join(f"{n!r}: True" for n in EXPECTED) + "}",
    "{" + ", ".join(f"{n!r}: {i}" for i, n in enumerate(EXPECTED)) + "}",
    f"[{quoted(EXPECTED[:3])}, 'InjuriesProcessor']",  # an alias counts as its processor
])
def test_pg202_exact_copy_is_a_warning_naming_the_generated_module(tmp_path, literal):
    [finding] = run(tmp_path, f"X = {literal}\n")
    assert (finding.rule, finding.name, finding.severity) == (
        "PG202", "copied-expectation", Severity.WARNING)
    assert (finding.path, finding.line, finding.column) == ("monitoring/check.py", 1, 5)
    assert "phase2_to_phase3 expected" in finding.message
    assert ("`from orchestrator.expected_processors import EXPECTED_PROCESSORS` "
            "(EXPECTED_PROCESSORS['phase2_to_phase3'])") in finding.message


def test_pg202_copy_of_the_required_set(tmp_path):
    [finding] = run(tmp_path, "REQ = ['p2_gamebook', 'p2_boxscores', 'p2_injuries']\n")
    assert finding.rule == "PG202"
    assert "phase2_to_phase3 required" in finding.message
    assert "import REQUIRED_PROCESSORS" in finding.message


def test_pg202_without_a_generated_module_says_how_to_get_one(tmp_path):
    registry = REGISTRY.split("generate:")[0]
    [finding] = run(tmp_path, f"X = [{quoted(EXPECTED)}]\n", registry)
    assert finding.rule == "PG202" and "add a python target" in finding.message


def test_pg208_names_extra_and_missing_with_their_status(tmp_path):
    drifted = ["p2_gamebook", "p2_odds_game_lines", "p2_injuries", "p2_bdl_box_scores"]
    findings = run(tmp_path, f"X = [{quoted(drifted)}]\n")
    [copy] = [f for f in findings if f.rule == "PG208"]
    assert (copy.name, copy.severity, copy.line, copy.column) == (
        "drifted-copy", Severity.ERROR, 1, 5)
    assert ("holds p2_bdl_box_scores (disabled: input retired; scraper bdl_feed: Ball Don't Lie "
            "API retired) which the set does not; lacks p2_boxscores (enabled)"
            ) in copy.message
    assert "phase2_to_phase3 expected" in copy.message
    # the disabled name itself is still PG204: the code does not switch it off
    assert {f.rule for f in findings} == {"PG208", "PG204"}


def test_pg208_picks_the_closest_set(tmp_path):
    code = "X = ['p2_gamebook', 'p2_boxscores', 'p2_injuries', 'p2_bdl_box_scores']\n"
    [copy] = [f for f in run(tmp_path, code) if f.rule == "PG208"]
    assert "drifted copy of phase2_to_phase3 required: holds p2_bdl_box_scores" in copy.message
    assert "lacks" not in copy.message


def test_pg208_missing_only_and_flag_map(tmp_path):
    code = "FLAGS = {'p2_gamebook': True, 'p2_boxscores': 1, 'p2_odds_game_lines': 0}\n"
    [finding] = run(tmp_path, code)
    assert finding.rule == "PG208"
    assert "lacks p2_injuries (enabled)" in finding.message and "holds" not in finding.message


def test_entries_a_flag_map_switches_off_are_not_names_it_holds(tmp_path):
    """{'x': None} says x is off: a copy of the expected set with x switched off is exact."""
    off = "FLAGS = {" + ", ".join(f"{n!r}: True" for n in EXPECTED) + ", 'p2_extra': False}\n"
    registry = REGISTRY.replace("  p2_gamebook: {phase: 2}\n",
                                "  p2_gamebook: {phase: 2}\n  p2_extra: {phase: 3}\n")
    assert [f.rule for f in run(tmp_path, off, registry)] == ["PG202"]
    three_off = "FLAGS = {'p2_gamebook': True, 'p2_boxscores': None, 'p2_odds_game_lines': " \
                "'disabled', 'p2_injuries': False}\n"
    assert run(tmp_path, three_off) == []


def test_lists_inside_a_name_keyed_table_are_dependencies_not_copies(tmp_path):
    code = ("DEPENDS = {'p2_gamebook': [" + quoted(EXPECTED[1:]) + "]}\n"
            "BY_PHASE = {'phase2': [" + quoted(EXPECTED[1:]) + "]}\n")
    assert [(f.rule, f.line) for f in run(tmp_path, code)] == [("PG208", 2)]


def test_pg208_needs_half_of_the_literals_names_in_the_set(tmp_path):
    registry = REGISTRY.replace("  p2_gamebook: {phase: 2}\n", "  p2_gamebook: {phase: 2}\n" + "".join(
        f"  p3_x{i}: {{phase: 3}}\n" for i in range(4)))
    three_of_seven = ["p2_gamebook", "p2_boxscores", "p2_injuries", "p3_x0", "p3_x1", "p3_x2",
                      "p3_x3"]
    assert run(tmp_path, f"X = [{quoted(three_of_seven)}]\n", registry) == []
    three_of_six = three_of_seven[:-1]
    assert [f.rule for f in run(tmp_path, f"X = [{quoted(three_of_six)}]\n", registry)] == [
        "PG208"]


@pytest.mark.parametrize("code", [
    f"__all__ = [{quoted(EXPECTED)}]\n",
    "ROUTES = {" + ", ".join(f"{n!r}: Handler" for n in EXPECTED) + "}\n",
    "ROUTES = {" + ", ".join(f"{n!r}: [1]" for n in EXPECTED) + "}\n",
    "X = ['p2_gamebook', 'p2_boxscores']\n",  # fewer than three registry names
    "X = ['p2_gamebook', 'p2_boxscores', 'p2_odds_game_lines', 'p2_injuries', other]\n",
    "X = ['p2_gamebook', 'p2_boxscores', 'p2_injuries', 'p2_odds_game_lines', 'z'] + more\n",
], ids=["all", "routing-classes", "routing-lists", "two-names", "not-only-strings", "extra-str"])
def test_not_considered(tmp_path, code):
    findings = run(tmp_path, code)
    if "'z'" in code:  # only strings, 4 of 4 registry names equal the set: still a copy
        assert [f.rule for f in findings] == ["PG202"]
    else:
        assert findings == []


@pytest.mark.parametrize("value", ["False", "None", "'disabled'"])
def test_pg204_skips_names_the_code_switches_off(tmp_path, value):
    assert run(tmp_path, f"SWITCH = {{'p2_gamebook': True, 'p2_bdl_box_scores': {value}}}\n") == []


def test_pg204_still_reports_names_switched_on(tmp_path):
    findings = run(tmp_path, "SWITCH = {'p2_bdl_box_scores': True, 'bdl_feed': 'enabled'}\n")
    assert [(f.rule, f.column) for f in findings] == [("PG204", 11), ("PG204", 38)]


def test_pg204_skips_the_disabled_processors_own_module(tmp_path):
    code = """\
        class BdlBoxScoresProcessor:
            name = "p2_bdl_box_scores"
            alias = "BdlBoxScoresProcessor"
            feed = "bdl_feed"
    """
    findings = run(tmp_path, code)
    # the processor and its alias are its own business; its scraper is still reported
    assert [(f.rule, f.subject) for f in findings] == [("PG204", "bdl_feed")]


def test_pg204_another_processors_module_is_not_exempt(tmp_path):
    code = """\
        class InjuriesProcessor:
            upstream = "p2_bdl_box_scores"
    """
    assert [f.rule for f in run(tmp_path, code)] == ["PG204"]
