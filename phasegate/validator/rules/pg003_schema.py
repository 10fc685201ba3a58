"""PG003 schema: unknown field, wrong type, missing field, ambiguous boolean.

The registry models are strict: ``enabled: yes`` is ambiguous (YAML 1.1 reads
a boolean, YAML 1.2 a string), ``enabeld`` is an unknown field, not a comment.
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity
from phasegate.validator.rules._loading import loading_findings

RULE = Rule(
    "PG003", "schema", Severity.ERROR,
    "Unknown field, wrong type, missing field or ambiguous boolean.",
)


def check(ctx: RuleContext) -> Iterator[Finding]:
    yield from loading_findings(ctx, RULE, "schema")
