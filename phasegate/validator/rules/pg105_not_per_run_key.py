"""PG105 not-per-run-key: A transition expects a processor that never reports per run key.

A transition explicitly expects a processor with `per_run_key: false`: a
season-level processor (schedule, rosters) that reports once a season, never
per game date, so the transition waits forever. `expects: all` leaves them
out on its own.

Failing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2}
  p2_schedule: {phase: 2, per_run_key: false}
transitions:
  phase2_to_phase3:
    from_phase: 2
    to_phase: 3
    collection: phase2_completion
    expects: [p2_gamebook, p2_schedule]
```

Passing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2}
  p2_schedule: {phase: 2, per_run_key: false}
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

from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule.from_doc(__doc__, Severity.ERROR)


def check(ctx: RuleContext) -> Iterator[Finding]:
    for use in ctx.name_uses():
        processor = ctx.registry.processors.get(use.name)
        if processor is None or processor.per_run_key:
            continue
        yield ctx.report(
            RULE, use.where,
            f"transition {use.transition} {use.field} lists {use.name}, which has "
            "per_run_key: false (season-level) and never reports per run key; remove it",
            use.name,
        )
