"""PG001 yaml-syntax: the file does not parse.

Also raised for text that is not UTF-8, for more than one YAML document, and
for input refused as absurd (an alias bomb, a recursive alias).
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity
from phasegate.validator.rules._loading import loading_findings

RULE = Rule("PG001", "yaml-syntax", Severity.ERROR, "The file does not parse as YAML.")


def check(ctx: RuleContext) -> Iterator[Finding]:
    yield from loading_findings(ctx, RULE, "syntax")
