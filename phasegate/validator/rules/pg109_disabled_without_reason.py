"""PG109 disabled-without-reason (warning): A disabled scraper or processor has no disabled_reason.

A disabled scraper or processor has no `disabled_reason`. Months
later nobody knows whether it may come back; alerts and validator messages
quote the reason.

Failing:

```yaml
version: 1
pipeline: demo
timezone: UTC
scrapers:
  bdl_box_scores: {enabled: false}
processors:
  p2_gamebook: {phase: 2}
```

Passing:

```yaml
version: 1
pipeline: demo
timezone: UTC
scrapers:
  bdl_box_scores: {enabled: false, disabled_reason: API retired, disabled_on: 2026-02-07}
processors:
  p2_gamebook: {phase: 2}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule.from_doc(__doc__, Severity.WARNING)


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
