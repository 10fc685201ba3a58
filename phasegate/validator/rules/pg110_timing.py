"""PG110 timing (warning): grace shorter than the canary interval, or deadline not after grace.

(A canary schedule that is not valid cron is a PG003 error.)
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.registry.cron import longest_gap_minutes
from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule(
    "PG110", "timing", Severity.WARNING,
    "Grace shorter than the canary interval, or deadline not after grace.",
)


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
