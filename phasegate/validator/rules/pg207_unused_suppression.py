"""PG207 unused-suppression (warning): an inline suppression without a reason, or one that
suppresses nothing.

``# phasegate: ignore[PG202] reason`` silences one rule on one line; it needs
a reason, and it should go when the finding goes.
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule(
    "PG207", "unused-suppression", Severity.WARNING,
    "An inline suppression has no reason, or suppresses nothing.",
)


def check(ctx: RuleContext) -> Iterator[Finding]:
    """Reported by validator.suppression after all other rules ran; nothing to do here."""
    return iter(())
