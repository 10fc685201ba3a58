"""docs/rules.md documents every rule, and its examples behave as documented."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO, findings_for
from validator.rules import ALL_RULES

DOC = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
SECTIONS = {
    match.group(1): (match.group(2), match.group(3))
    for match in re.finditer(r"^## (PG\d{3}) (\S+)\n(.*?)(?=^## |\Z)", DOC, re.M | re.S)
}


def _example(body: str, kind: str) -> str:
    match = re.search(rf"^{kind}:\n\n```yaml\n(.*?)```", body, re.M | re.S)
    assert match, f"no {kind} example"
    return match.group(1)


def test_every_rule_in_the_code_is_documented_and_nothing_else():
    assert sorted(SECTIONS) == sorted(rule.code for rule in ALL_RULES)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_documented_name_and_severity(rule):
    name, body = SECTIONS[rule.code]
    assert name == rule.name
    assert ("**warning.**" in body) == (rule.severity.value == "warning")


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_failing_example_fails_with_its_code(rule):
    findings = findings_for(_example(SECTIONS[rule.code][1], "Failing"))
    assert rule.code in {f.rule for f in findings}, findings


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_passing_example_is_clean(rule):
    assert findings_for(_example(SECTIONS[rule.code][1], "Passing")) == []
