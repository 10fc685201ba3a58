"""references.files with ``key: true`` and ``enabled:``: a second config's flags (PG209)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from phasegate.cli import main
from phasegate.registry.loading import load_registry
from phasegate.validator.check import check_loaded
from phasegate.validator.findings import Finding

REGISTRY = """\
version: 1
pipeline: demo
timezone: UTC
scrapers:
  gamebook_pdf: {}
  injuries_feed: {}
  bdl_box_scores: {enabled: false, disabled_reason: API retired}
processors:
  p2_gamebook: {phase: 2, inputs: [gamebook_pdf]}
  p2_injuries: {phase: 2, inputs: [injuries_feed]}
  p2_bdl: {phase: 2, inputs: [bdl_box_scores], disabled_reason: input retired}
references:
  files:
    - {path: config/retry.yaml, select: "scrapers.*", key: true, enabled: enabled,
       kind: scraper}
"""


def run(root: Path, config: str, registry: str = REGISTRY) -> list[Finding]:
    (root / "registry").mkdir(exist_ok=True)
    (root / "registry" / "processors.yaml").write_text(registry)
    (root / "config").mkdir(exist_ok=True)
    (root / "config" / "retry.yaml").write_text(textwrap.dedent(config))
    loaded = load_registry(root / "registry" / "processors.yaml", "registry/processors.yaml")
    return [f for f in check_loaded(loaded, root) if f.rule.startswith("PG2")
            and f.rule != "PG201"]


def summary(findings: list[Finding]) -> list[tuple[str, int, str]]:
    return [(f.rule, f.line, f.subject) for f in findings]


def test_agreeing_flags_are_clean(tmp_path: Path) -> None:
    findings = run(tmp_path, """\
        scrapers:
          gamebook_pdf: {enabled: true, retries: 3}
          injuries_feed: {retries: 2}
          bdl_box_scores: {enabled: false}
        """)
    assert findings == []


def test_a_config_enabling_a_disabled_scraper(tmp_path: Path) -> None:
    findings = run(tmp_path, """\
        scrapers:
          gamebook_pdf: {enabled: true}
          bdl_box_scores:
            enabled: true
        """)
    assert summary(findings) == [("PG209", 3, "bdl_box_scores")]
    assert "enables 'bdl_box_scores', which the registry disables (scraper bdl_box_scores is disabled: API retired)" in (
        findings[0].message)
    assert findings[0].column == 3  # at the key, not at its value


def test_a_config_disabling_an_enabled_scraper(tmp_path: Path) -> None:
    findings = run(tmp_path, """\
        scrapers:
          gamebook_pdf: {enabled: false}
        """)
    assert summary(findings) == [("PG209", 2, "gamebook_pdf")]
    assert "disables 'gamebook_pdf', which the registry enables" in findings[0].message


def test_keys_are_names_unknown_keys_are_pg203(tmp_path: Path) -> None:
    findings = run(tmp_path, """\
        scrapers:
          gamebook_pdf: {enabled: true}
          gamebok_pdf: {enabled: true}
        """)
    assert summary(findings) == [("PG203", 3, "gamebok_pdf")]


def test_a_disabled_key_switched_off_by_the_file_is_not_pg204(tmp_path: Path) -> None:
    registry = REGISTRY.replace("enabled: enabled,", "")
    findings = run(tmp_path, """\
        scrapers:
          bdl_box_scores: {retries: 1}
        """, registry)
    assert summary(findings) == [("PG204", 2, "bdl_box_scores")]  # no flag to compare: PG204
    findings = run(tmp_path, """\
        scrapers:
          bdl_box_scores: {enabled: false}
        """)
    assert findings == []


def test_key_true_on_a_list_is_pg206_naming_the_path(tmp_path: Path) -> None:
    findings = run(tmp_path, """\
        scrapers:
          - gamebook_pdf
          - bdl_box_scores
        """)
    assert [f.rule for f in findings] == ["PG206"]
    assert "key: true reaches list items at scrapers.0 in config/retry.yaml" in (
        findings[0].message)


def test_a_flag_that_is_not_boolean_is_pg206(tmp_path: Path) -> None:
    findings = run(tmp_path, """\
        scrapers:
          gamebook_pdf: {enabled: "yes please"}
        """)
    assert [f.rule for f in findings] == ["PG206"]
    assert "enabled field 'enabled' is str 'yes please', not true or false" in (
        findings[0].message)
    assert "scrapers.gamebook_pdf" in findings[0].message


def test_a_huge_flag_value_is_shortened(tmp_path: Path) -> None:
    findings = run(tmp_path, "scrapers:\n  gamebook_pdf: {enabled: '" + "x" * 5000 + "'}\n")
    assert [f.rule for f in findings] == ["PG206"]
    assert len(findings[0].message) < 300


def test_value_select_compares_the_flag_of_its_mapping(tmp_path: Path) -> None:
    registry = REGISTRY.replace(
        '{path: config/retry.yaml, select: "scrapers.*", key: true, enabled: enabled,\n'
        "       kind: scraper}",
        '{path: config/retry.yaml, select: "jobs.*.scraper", enabled: active, kind: scraper}')
    findings = run(tmp_path, """\
        jobs:
          - {scraper: gamebook_pdf, active: true}
          - {scraper: bdl_box_scores, active: true}
          - {scraper: injuries_feed}
        """, registry)
    assert summary(findings) == [("PG209", 3, "bdl_box_scores")]


def test_enablement_is_effective_for_processors(tmp_path: Path) -> None:
    """A processor whose input scraper is off is off, though its own flag is not."""
    registry = REGISTRY.replace(
        '{path: config/retry.yaml, select: "scrapers.*", key: true, enabled: enabled,\n'
        "       kind: scraper}",
        '{path: config/retry.yaml, select: "processors.*", key: true, enabled: enabled,\n'
        "       kind: processor}")
    findings = run(tmp_path, """\
        processors:
          p2_gamebook: {enabled: true}
          p2_bdl: {enabled: true}
        """, registry)
    assert summary(findings) == [("PG209", 3, "p2_bdl")]


def test_the_command_line_exits_1_on_pg209(tmp_path: Path, capsys: object) -> None:
    run(tmp_path, "scrapers:\n  bdl_box_scores: {enabled: true}\n")
    code = main(["validate", "--root", str(tmp_path), "--registry",
                 str(tmp_path / "registry" / "processors.yaml"), "--format", "json"])
    assert code == 1
