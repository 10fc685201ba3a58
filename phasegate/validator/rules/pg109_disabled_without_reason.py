"""PG109 disabled-without-reason (warning): a disabled scraper or processor has no
disabled_reason.

Months later nobody knows whether it may be re-enabled; alerts and validator
messages quote the reason.
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule(
    "PG109", "disabled-without-reason", Severity.WARNING,
    "A disabled scraper or processor has no disabled_reason.",
)


def check(ctx: RuleContext) -> Iterator[Finding]:
    registry = ctx.registry
    groups = (("scrapers", "scraper", registry.scrapers), ("processors", "processor",
                                                           registry.processors))
    for section, kind, entries in groups:
        for name, entry in entries.items():
            if entry.enabled or (entry.disabled_reason or "").strip():
                continue
            yield ctx.report(
                RULE, (section, name, "enabled"),
                f"{kind} {name} is disabled without a disabled_reason; say why (and when, with "
                "disabled_on) so that alerts and reviewers can tell",
                name,
            )
