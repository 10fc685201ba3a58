"""Each reporter renders the same findings in its own format, exactly."""

from __future__ import annotations

import json

import jsonschema
import pytest

from phasegate.validator.findings import Finding, Severity
from phasegate.validator.reporters import REPORTERS
from phasegate.validator.rules import ALL_RULES
from tests.conftest import REPO

FINDINGS = [
    Finding("registry/processors.yaml", 12, 9, "PG102", "disabled-but-expected",
            Severity.ERROR, "lists p2_x, which is disabled: 50% done, a:b\nnext", "p2_x"),
    Finding("registry/processors.yaml", 30, 14, "PG109", "disabled-without-reason",
            Severity.WARNING, "scraper s is disabled without a disabled_reason", "s"),
]


def test_text():
    lines = REPORTERS["text"](FINDINGS).splitlines()
    assert len(lines) == 2
    assert lines[1] == (
        "registry/processors.yaml:30:14: warning PG109 [disabled-without-reason] "
        "scraper s is disabled without a disabled_reason")


def test_json_shape_and_summary():
    document = json.loads(REPORTERS["json"](FINDINGS))
    assert document["summary"] == {"errors": 1, "warnings": 1}
    assert document["findings"][0] == {
        "rule": "PG102", "name": "disabled-but-expected", "severity": "error",
        "path": "registry/processors.yaml", "line": 12, "column": 9,
        "message": "lists p2_x, which is disabled: 50% done, a:b\nnext", "subject": "p2_x",
    }


def test_github_escapes_workflow_command_data():
    first, second = REPORTERS["github"](FINDINGS).splitlines()
    assert first == (
        "::error file=registry/processors.yaml,line=12,col=9,title=PG102 disabled-but-expected"
        "::lists p2_x, which is disabled: 50%25 done, a:b%0Anext")
    assert second.startswith("::warning file=registry/processors.yaml,line=30,col=14,")


def test_github_escapes_commas_in_paths():
    finding = Finding("a,b:c.yaml", 1, 1, "PG001", "yaml-syntax", Severity.ERROR, "m")
    assert REPORTERS["github"]([finding]).startswith("::error file=a%2Cb%3Ac.yaml,line=1,")


@pytest.fixture(scope="module")
def sarif_schema():
    return json.loads((REPO / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())


@pytest.mark.parametrize("findings", [FINDINGS, []])
def test_sarif_is_valid_against_the_sarif_schema(sarif_schema, findings):
    log = json.loads(REPORTERS["sarif"](findings))
    jsonschema.Draft4Validator(sarif_schema).validate(log)
    [run] = log["runs"]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [r.code for r in ALL_RULES]
    assert len(run["results"]) == len(findings)


def test_sarif_result_points_at_rule_and_place():
    [run] = json.loads(REPORTERS["sarif"](FINDINGS))["runs"]
    result = run["results"][1]
    assert result["level"] == "warning"
    assert run["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "PG109"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "registry/processors.yaml"
    assert location["region"] == {"startLine": 30, "startColumn": 14}


def test_sarif_schema_check_would_catch_a_broken_log(sarif_schema):
    log = json.loads(REPORTERS["sarif"](FINDINGS))
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(sarif_schema).validate(log)
