"""A JSON document with every finding and a summary, for other tools."""

from __future__ import annotations

import json
from collections.abc import Sequence

from phasegate.validator.findings import Finding, summarize


def render(findings: Sequence[Finding]) -> str:
    summary = summarize(findings)
    document = {
        "findings": [
            {
                "rule": f.rule,
                "name": f.name,
                "severity": f.severity.value,
                "path": f.path,
                "line": f.line,
                "column": f.column,
                "message": f.message,
                "subject": f.subject,
            }
            for f in findings
        ],
        "summary": {"errors": summary.errors, "warnings": summary.warnings},
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
