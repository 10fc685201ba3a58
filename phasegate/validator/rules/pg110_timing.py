"""PG110 timing (warning): Grace shorter than the canary interval, or deadline not after grace.

A transition's `grace_minutes` is shorter than the longest gap
between two canary runs (so STUCK is seen late), or its `deadline_minutes`
is not after its `grace_minutes`. Also the early rules (`canary.early`):
`slack_minutes` not shorter than a transition's deadline (the learned rule
can never alert before it), `min_samples` more than `learn_days` (one
sample per run key: it can never learn), and `silent_run_keys: 1` (late
whenever a processor is the last to complete).

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
    yield from _early(ctx)
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


def _early(ctx: RuleContext) -> Iterator[Finding]:
    early = ctx.registry.canary.early
    where = ("canary", "early")
    if early.learn_days > 0:
        short = [(name, t.deadline_minutes) for name, t in ctx.transitions()
                 if t.deadline_minutes <= early.slack_minutes]
        if short:
            names = ", ".join(f"{name} ({minutes})" for name, minutes in short)
            yield ctx.report(
                RULE, (*where, "slack_minutes"),
                f"canary.early.slack_minutes {early.slack_minutes} is not shorter than the "
                f"deadline_minutes of {names}: the learned rule can never report them before "
                "the deadline; lower slack_minutes")
        if early.min_samples > early.learn_days:
            written = (ctx.loaded.document.data.get("canary") or {}).get("early") or {}
            yield ctx.report(
                RULE, (*where, "min_samples" if "min_samples" in written else "learn_days"),
                f"canary.early.min_samples {early.min_samples} is more than learn_days "
                f"{early.learn_days}: a run key gives one sample, so nothing is ever learned; "
                "raise learn_days or lower min_samples", "canary.early")
    if early.silent_run_keys == 1:
        yield ctx.report(
            RULE, (*where, "silent_run_keys"),
            "canary.early.silent_run_keys 1 makes a processor LATE the moment every other one "
            "completes, on any night it merely comes last; use 2 or more (0 turns it off)",
            "canary.early")
