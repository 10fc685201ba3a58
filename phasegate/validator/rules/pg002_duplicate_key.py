"""PG002 duplicate-key: a mapping key appears twice.

YAML loaders keep the last value without a word, so the first entry (often
a whole processor) silently disappears.
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity
from phasegate.validator.rules._loading import loading_findings

RULE = Rule("PG002", "duplicate-key", Severity.ERROR, "A mapping key appears twice.")


def check(ctx: RuleContext) -> Iterator[Finding]:
    yield from loading_findings(ctx, RULE, "duplicate-key")
