"""docs/rules.md documents every rule, and its examples behave as documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from phasegate.registry.loading import load_registry
from phasegate.validator.check import check_loaded
from phasegate.validator.rules import ALL_RULES
from tests.conftest import REPO, run_phasegate

DOC = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
SECTIONS = {
    match.group(1): (match.group(2), match.group(3))
    for match in re.finditer(r"^## (PG\d{3}) (\S+)\n(.*?)(?=^## |\Z)", DOC, re.M | re.S)
}
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.M | re.S)


def _example(body: str, kind: str) -> list[tuple[str, str]]:
    """The (language, text) blocks of the Failing or Passing part of a section."""
    failing, _, passing = body.partition("\nPassing:\n")
    part = failing.partition("\nFailing:\n")[2] if kind == "Failing" else passing
    blocks = BLOCK.findall(part)
    assert blocks, f"no {kind} example"
    return blocks


def _findings(blocks: list[tuple[str, str]], root: Path):
    for language, text in blocks:
        if language == "console":
            continue
        first = text.splitlines()[0]
        relative = first.removeprefix("# file: ") if first.startswith("# file: ") else (
            "registry/processors.yaml")
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for language, text in blocks:
        if language == "console":
            command = text.strip().removeprefix("$ phasegate ").split()
            assert run_phasegate(*command, "--root", str(root)).returncode == 0
    registry = root / "registry" / "processors.yaml"
    return check_loaded(load_registry(registry, "registry/processors.yaml"), root)


def test_every_rule_in_the_code_is_documented_and_nothing_else():
    assert sorted(SECTIONS) == sorted(rule.code for rule in ALL_RULES)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_documented_name_and_severity(rule):
    name, body = SECTIONS[rule.code]
    assert name == rule.name
    assert ("**warning.**" in body) == (rule.severity.value == "warning")


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_failing_example_fails_with_its_code(rule, tmp_path):
    findings = _findings(_example(SECTIONS[rule.code][1], "Failing"), tmp_path)
    assert rule.code in {f.rule for f in findings}, findings


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_passing_example_is_clean(rule, tmp_path):
    assert _findings(_example(SECTIONS[rule.code][1], "Passing"), tmp_path) == []


def test_docs_rules_is_generated_from_the_rule_modules():
    from phasegate.validator.rules_doc import render

    assert render() == DOC, "docs/rules.md is stale: run `python -m phasegate.validator.rules_doc`"


def test_each_rule_documents_itself_with_both_examples():
    for rule in ALL_RULES:
        assert "\nFailing:\n" in f"\n{rule.doc}" and "\nPassing:\n" in rule.doc, rule.code
        assert rule.summary.endswith("."), rule.code
