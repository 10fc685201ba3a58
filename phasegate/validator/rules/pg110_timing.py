"""PG110 timing (warning): grace shorter than the canary interval, deadline not after grace,
or a canary schedule that is not valid cron.
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.registry.cron import CronError, longest_gap_minutes
from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule(
    "PG110", "timing", Severity.WARNING,
    "Grace shorter than the canary interval, deadline not after grace, or a bad cron schedule.",
)


def check(ctx: RuleContext) -> Iterator[Finding]:
    schedule = ctx.registry.canary.schedule
    try:
        interval: int | None = longest_gap_minutes(schedule)
    except CronError as error:
        interval = None
        yield ctx.report(
            RULE, ("canary", "schedule"),
            f"canary schedule {schedule!r} is not valid cron: {error}", schedule,
        )
    for t_name, transition in ctx.transitions():
        base = ("transitions", t_name)
        if interval is not None and transition.grace_minutes < interval:
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
