"""Processors' outputs (table names) and references.calls (names passed to functions)."""

from __future__ import annotations

import copy
import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from phasegate.registry import schema_models
from phasegate.registry.loading import load_registry
from phasegate.registry.models import registry_from_data
from phasegate.registry.schema_check import conforms
from phasegate.registry.semantics import canonical_json
from phasegate.validator.check import check_loaded
from phasegate.validator.findings import Finding
from phasegate.validator.scan import scan_python
from phasegate.validator.vocabulary import build_vocabulary
from tests.conftest import findings_for

REGISTRY = """\
version: 1
pipeline: demo
timezone: UTC
scrapers:
  gamebook_pdf: {}
  bdl_feed: {enabled: false, disabled_reason: API retired}
processors:
  gamebook: {phase: 2, outputs: [nba_raw.nbac_gamebook_player_stats]}
  boxscores: {phase: 2, outputs: [nba_raw.boxscores]}
  injuries: {phase: 2, outputs: [nba_raw.injuries]}
  odds: {phase: 2}
  bdl_boxes:
    {phase: 2, enabled: false, disabled_reason: input retired, outputs: [nba_raw.bdl_boxes]}
transitions:
  phase2_to_phase3:
    from_phase: 2
    to_phase: 3
    collection: phase2_completion
    required: [gamebook, boxscores, injuries]
references:
  code: [monitoring]
  calls:
    - {function: run_scraper, arg: 0, kind: scraper}
    - {function: publish_completion, keyword: processor_name, kind: processor}
"""


def run(root: Path, code: str, registry: str = REGISTRY) -> list[Finding]:
    (root / "registry").mkdir(exist_ok=True)
    (root / "registry" / "processors.yaml").write_text(registry)
    (root / "monitoring").mkdir(exist_ok=True)
    (root / "monitoring" / "check.py").write_text(textwrap.dedent(code))
    loaded = load_registry(root / "registry" / "processors.yaml", "registry/processors.yaml")
    return [f for f in check_loaded(loaded, root) if f.rule not in ("PG201", "PG205")]


def rules(findings: list[Finding]) -> list[tuple[str, int, int]]:
    return sorted((f.rule, f.line, f.column) for f in findings)


# --- the format ---------------------------------------------------------------------------

def _data(**calls_or_outputs: object) -> dict[str, object]:
    data: dict[str, object] = {
        "version": 1, "pipeline": "x", "timezone": "UTC",
        "processors": {"p2_a": {"phase": 2}},
    }
    data.update(calls_or_outputs)
    return data


def _accepts(data: dict[str, object]) -> bool:
    try:
        schema_models.Registry.model_validate(data)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize("call,valid", [
    ({"function": "run", "arg": 0, "kind": "scraper"}, True),
    ({"function": "run", "keyword": "name", "kind": "processor"}, True),
    ({"function": "obj_run", "arg": 2, "keyword": None, "kind": "processor"}, True),
    ({"function": "run", "arg": None, "keyword": "name", "kind": "processor"}, True),
    ({"function": "run", "kind": "processor"}, False),
    ({"function": "run", "arg": 0, "keyword": "name", "kind": "processor"}, False),
    ({"function": "run", "arg": None, "keyword": None, "kind": "processor"}, False),
    ({"function": "run", "arg": -1, "kind": "processor"}, False),
    ({"function": "run", "arg": True, "kind": "processor"}, False),
    ({"function": "run", "arg": 0, "kind": "table"}, False),
    ({"function": "run", "arg": 0}, False),
    ({"function": "a.run", "arg": 0, "kind": "scraper"}, False),
    ({"function": "run", "keyword": "1x", "kind": "scraper"}, False),
    ({"function": "run", "arg": 0, "kind": "scraper", "extra": 1}, False),
])
def test_call_references_agree_on_both_paths(call, valid):
    data = _data(references={"calls": [call]})
    assert _accepts(data) is valid
    assert conforms(data) is valid


@pytest.mark.parametrize("outputs,valid", [
    (["nba_raw.nbac_gamebook_player_stats"], True),
    (["table", "a.b.c"], True),
    ([], True),
    (["nba_raw."], False),
    ([".x"], False),
    (["a..b"], False),
    (["1abc"], False),
    (["a.b\n"], False),
    ("nba_raw.x", False),
])
def test_outputs_agree_on_both_paths(outputs, valid):
    data = _data(processors={"p2_a": {"phase": 2, "outputs": outputs}})
    assert _accepts(data) is valid
    assert conforms(data) is valid


def test_outputs_are_unordered_and_defaults_leave_the_digest_alone():
    plain = _data()
    with_defaults = _data(processors={"p2_a": {"phase": 2, "outputs": []}},
                          references={"calls": []})
    assert canonical_json(registry_from_data(plain)) == canonical_json(
        registry_from_data(with_defaults))
    one = _data(processors={"p2_a": {"phase": 2, "outputs": ["a.x", "b.y"]}})
    other = copy.deepcopy(one)
    other["processors"]["p2_a"]["outputs"].reverse()  # type: ignore[index]
    assert canonical_json(registry_from_data(one)) == canonical_json(registry_from_data(other))
    assert canonical_json(registry_from_data(one)) != canonical_json(registry_from_data(plain))


def test_an_output_colliding_with_another_processors_name_alias_or_output_is_pg104():
    text = """\
    version: 1
    pipeline: x
    timezone: UTC
    processors:
      p2_a: {phase: 2, aliases: [AProcessor], outputs: [raw.a, raw.a, AProcessor]}
      p2_b: {phase: 2, aliases: [RawA], outputs: [raw.a, AProcessor, p2_a]}
    """
    found = [(f.rule, f.message) for f in findings_for(text)]
    pg104 = [m for r, m in found if r == "PG104"]
    # one processor may repeat its own names; other processors may not claim them
    assert len(pg104) == 3, found
    assert any("output 'raw.a' is claimed already by p2_a" in m for m in pg104)
    assert any("output 'AProcessor' is claimed already by p2_a" in m for m in pg104)
    assert any("output 'p2_a' of p2_b is the name of another processor" in m for m in pg104)


# --- outputs in code ----------------------------------------------------------------------

def test_an_output_name_counts_as_its_processor_in_the_vocabulary():
    loaded = load_registry_text_data(REGISTRY)
    vocabulary = build_vocabulary(loaded)
    assert vocabulary.aliases["nba_raw.boxscores"] == "boxscores"
    assert vocabulary.disabled["nba_raw.bdl_boxes"].startswith("output of bdl_boxes")


def load_registry_text_data(text: str):
    from phasegate.registry.loading import load_registry_text

    loaded = load_registry_text(text, "r.yaml")
    assert loaded.registry is not None
    return loaded.registry


def test_a_disabled_processors_output_in_code_is_pg204(tmp_path):
    findings = run(tmp_path, 'TABLE = "nba_raw.bdl_boxes"\nOK = "nba_raw.boxscores"\n')
    assert rules(findings) == [("PG204", 1, 9)]
    assert "output of bdl_boxes" in findings[0].message


def test_a_copy_spelled_as_table_names_is_pg202(tmp_path):
    code = 'X = ["nba_raw.nbac_gamebook_player_stats", "nba_raw.boxscores", "injuries"]\n'
    [finding] = run(tmp_path, code)
    assert finding.rule == "PG202" and "phase2_to_phase3 required" in finding.message


def test_a_drifted_copy_spelled_as_table_names_is_pg208(tmp_path):
    code = ('X = ["nba_raw.nbac_gamebook_player_stats", "nba_raw.boxscores", '
            '"nba_raw.injuries", "nba_raw.bdl_boxes"]\n')
    findings = run(tmp_path, code)
    [drift] = [f for f in findings if f.rule == "PG208"]
    assert "holds bdl_boxes (disabled: input retired)" in drift.message


# --- references.calls ---------------------------------------------------------------------

CALLS = """\
def main(client):
    run_scraper("gamebook_pdf", retries=3)
    run_scraper("gamebok_pdf")
    client.run_scraper("bdl_feed")
    run_scraper("gamebook")
    publish_completion(processor_name="injuries")
    publish_completion("x", processor_name="injures")
    client.pubsub.publish_completion(processor_name="bdl_boxes")
    publish_completion(processor_name="nba_raw.boxscores")
    run_scraper(*names)
    run_scraper(name)
    other("gamebok_pdf")
"""


def test_names_passed_to_declared_calls_are_checked_without_a_naming_convention(tmp_path):
    findings = run(tmp_path, CALLS)
    assert rules(findings) == [
        ("PG203", 3, 17),  # a misspelt scraper
        ("PG203", 5, 17),  # a processor where a scraper belongs
        ("PG203", 7, 44),  # a misspelt processor
        ("PG204", 4, 24),  # a disabled scraper
        ("PG204", 8, 53),  # a disabled processor
    ]
    by_line = {f.line: f.message for f in findings}
    assert "did you mean 'gamebook_pdf'" in by_line[3]
    assert "where a scraper name belongs" in by_line[5]
    assert "did you mean 'injuries'" in by_line[7]
    assert "API retired" in by_line[4]


def test_calls_bypass_the_prefilter():
    vocabulary = build_vocabulary(load_registry_text_data(REGISTRY))
    scan = scan_python("m.py", 'run_scraper("nothing_like_a_name")\n', vocabulary)
    assert [(s.value, s.kind) for s in scan.strings] == [("nothing_like_a_name", "scraper")]
    plain = scan_python("m.py", 'print("nothing_like_a_name")\n', vocabulary)
    assert plain.strings == []


def test_a_starred_argument_before_the_position_hides_it():
    vocabulary = build_vocabulary(load_registry_text_data(REGISTRY))
    scan = scan_python("m.py", 'run_scraper(*a, "zzz")\nrun_scraper("yyy", *a)\n', vocabulary)
    assert [s.value for s in scan.strings] == ["yyy"]


def test_without_calls_only_known_disabled_names_are_found(tmp_path):
    registry = REGISTRY.split("  calls:")[0]
    assert rules(run(tmp_path, CALLS, registry)) == [("PG204", 4, 24), ("PG204", 8, 53)]
