"""A JSON document with every finding and a summary, for other tools."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from phasegate.validator.findings import Finding, summarize

if TYPE_CHECKING:
    from phasegate.validator.baseline import Outcome


def render(findings: Sequence[Finding], /, *, baseline: Outcome | None = None) -> str:
    """``findings`` and their counts; with a baseline, the summary says how many findings it
    accepted (not listed) and which of its entries match nothing any more."""
    summary = summarize(findings)
    counts: dict[str, object] = {"errors": summary.errors, "warnings": summary.warnings}
    if baseline is not None:
        counts["baseline"] = {"matched": len(baseline.matched),
                              "fixed": [entry.as_json() for entry in baseline.fixed]}
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
        "summary": counts,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
