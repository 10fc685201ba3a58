"""SARIF 2.1.0, for GitHub code scanning and other static-analysis dashboards."""

from __future__ import annotations

import json
from collections.abc import Sequence

from phasegate.validator.findings import Finding, Severity

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
RULES_URI = "https://github.com/phasegate/phasegate/blob/main/docs/rules.md"


def _version() -> str:
    from importlib import metadata  # slow to import; only SARIF output needs it

    try:
        return metadata.version("phasegate")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def render(findings: Sequence[Finding]) -> str:
    from phasegate.validator.rules import ALL_RULES  # the rule table, not the checks

    rule_index = {rule.code: index for index, rule in enumerate(ALL_RULES)}
    rules = [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "helpUri": f"{RULES_URI}#{rule.code.lower()}-{rule.name}",
            "defaultConfiguration": {
                "level": "error" if rule.severity is Severity.ERROR else "warning"
            },
        }
        for rule in ALL_RULES
    ]
    results = []
    for f in findings:
        result: dict[str, object] = {
            "ruleId": f.rule,
            "level": "error" if f.severity is Severity.ERROR else "warning",
            "message": {"text": f.message},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": f.line, "startColumn": f.column},
                }
            }],
            "partialFingerprints": {"phasegate/v1": f"{f.rule}:{f.path}:{f.subject}"},
        }
        if f.rule in rule_index:
            result["ruleIndex"] = rule_index[f.rule]
        results.append(result)
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "phasegate",
                "version": _version(),
                "informationUri": RULES_URI,
                "rules": rules,
            }},
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
