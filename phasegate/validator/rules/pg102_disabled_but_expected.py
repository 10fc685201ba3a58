"""PG102 disabled-but-expected: An expected, required or mode set names a processor that is not
effectively enabled.

An expected, required or mode set names a processor that is not effectively
enabled (its own flag is false, or an input is disabled). It will never
report, so the transition waits forever: 5 of 6 complete, never triggered.
The message names every disabled entry on the way, with its reason and date.
With `expects: all`, disabled processors leave the expected set on their own.

Failing:

```yaml
version: 1
pipeline: demo
timezone: UTC
scrapers:
  bdl_box_scores:
    enabled: false
    disabled_reason: API retired
    disabled_on: 2026-02-07
processors:
  p2_gamebook: {phase: 2}
  p2_bdl_box_scores:
    phase: 2
    enabled: false
    disabled_reason: input scraper retired
    inputs: [bdl_box_scores]
transitions:
  phase2_to_phase3:
    from_phase: 2
    to_phase: 3
    collection: phase2_completion
    expects: [p2_gamebook, p2_bdl_box_scores]
```

Passing:

```yaml
version: 1
pipeline: demo
timezone: UTC
scrapers:
  bdl_box_scores:
    enabled: false
    disabled_reason: API retired
    disabled_on: 2026-02-07
processors:
  p2_gamebook: {phase: 2}
  p2_bdl_box_scores:
    phase: 2
    enabled: false
    disabled_reason: input scraper retired
    inputs: [bdl_box_scores]
transitions:
  phase2_to_phase3:
    from_phase: 2
    to_phase: 3
    collection: phase2_completion
    expects: all
```
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.registry.semantics import describe_causes, disabled_causes
from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule.from_doc(__doc__, Severity.ERROR)


def check(ctx: RuleContext) -> Iterator[Finding]:
    for use in ctx.name_uses():
        if use.name not in ctx.registry.processors or ctx.enabled.get(use.name, True):
            continue
        line = ctx.at(use.where).line
        causes = describe_causes(disabled_causes(ctx.registry, use.name))
        yield ctx.report(
            RULE, use.where,
            f"transition {use.transition} {use.field} lists {use.name}, which is not enabled "
            f"({causes}), so it will never report and the transition will wait forever; "
            f"remove it from {use.field} (line {line}) or re-enable what disables it",
            use.name,
        )
