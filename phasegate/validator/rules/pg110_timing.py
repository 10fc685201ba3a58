"""PG110 timing (warning): Grace shorter than the canary interval, or deadline not after grace.

A transition's `grace_minutes` is shorter than the longest gap
between two canary runs (so STUCK is seen late), or its `deadline_minutes`
is not after its `grace_minutes`.

Failing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2}
transitions:
  phase2_to_phase3:
    from_phase: 2
    to_phase: 3
    collection: phase2_completion
    grace_minutes: 10
canary:
  schedule: "*/15 * * * *"
```

Passing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2}
transitions:
  phase2_to_phase3:
    from_phase: 2
    to_phase: 3
    collection: phase2_completion
    grace_minutes: 30
canary:
  schedule: "*/15 * * * *"
```
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.registry.cron import longest_gap_minutes
from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule.from_doc(__doc__, Severity.WARNING)


def check(ctx: RuleContext) -> Iterator[Finding]:
    interval = longest_gap_minutes(ctx.registry.canary.schedule)  # PG003 made sure it parses
    for t_name, transition in ctx.transitions():
        base = ("transitions", t_name)
        if transition.grace_minutes < interval:
            yield ctx.report(
                RULE, (*base, "grace_minutes"),
                f"transition {t_name} grace_minutes {transition.grace_minutes} is shorter than "
                f"the canary's {interval}-minute interval, so a STUCK transition is seen up to "
                f"{interval} minutes late; raise grace_minutes or run the canary more often",
                t_name,
            )
        if transition.deadline_minutes <= transition.grace_minutes:
            yield ctx.report(
                RULE, (*base, "deadline_minutes"),
                f"transition {t_name} deadline_minutes {transition.deadline_minutes} is not "
                f"after grace_minutes {transition.grace_minutes}; processors get less time to "
                "finish than the trigger gets to fire",
                t_name,
            )
