"""SARIF 2.1.0, for GitHub code scanning and other static-analysis dashboards."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from phasegate.validator.findings import Finding, Severity

if TYPE_CHECKING:
    from phasegate.validator.baseline import Outcome

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
RULES_URI = "https://github.com/phasegate/phasegate/blob/main/docs/rules.md"


def _version() -> str:
    from importlib import metadata  # slow to import; only SARIF output needs it

    try:
        return metadata.version("phasegate")
    except metadata.PackageNotFoundError:
        return "0.0.0"


def render(findings: Sequence[Finding], /, *, baseline: Outcome | None = None) -> str:
    """One result per finding; with a baseline, its accepted findings too, marked.

    With ``--baseline`` every result carries ``baselineState`` (one of SARIF
    2.1.0's "new", "unchanged", "updated", "absent"): "new" for a finding the
    baseline does not hold (it fails the run), "unchanged" for one it accepts.
    An accepted result gets level "note" and a suppression of kind "external"
    (suppressed by a file outside the artifact, which the baseline is) with
    status "accepted". Not level "none": the spec (result.level) reserves it
    for results whose ``kind`` is not "fail", and these are failures that were
    accepted, not passes; "note" also keeps GitHub code scanning, which does not
    honour suppressions, from failing a check on them. Entries that match
    nothing any more ("absent") have no place to point at; they are listed
    in the run's property bag ``phasegate/baseline``, not as results.
    """
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
    accepted = set(baseline.matched) if baseline is not None else set()
    results = []
    for f in sorted([*findings, *accepted]) if accepted else findings:
        result: dict[str, object] = {
            "ruleId": f.rule,
            "level": ("note" if f in accepted
                      else "error" if f.severity is Severity.ERROR else "warning"),
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
        if baseline is not None:
            result["baselineState"] = "unchanged" if f in accepted else "new"
        if f in accepted:
            result["suppressions"] = [{"kind": "external", "status": "accepted",
                                       "justification": "in the phasegate baseline"}]
        results.append(result)
    run: dict[str, object] = {
        "tool": {"driver": {
            "name": "phasegate",
            "version": _version(),
            "informationUri": RULES_URI,
            "rules": rules,
        }},
        "results": results,
    }
    if baseline is not None:
        run["properties"] = {"phasegate/baseline": {
            "matched": len(baseline.matched),
            "fixed": [entry.as_json() for entry in baseline.fixed]}}
    log = {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [run],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
