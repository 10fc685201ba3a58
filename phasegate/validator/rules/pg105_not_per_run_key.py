"""PG105 not-per-run-key: a transition expects a processor that never reports per run key.

Season-level processors (schedule, rosters) report once a season, not per
game date; expecting them per date means waiting forever.
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule(
    "PG105", "not-per-run-key", Severity.ERROR,
    "A transition expects a processor that never reports per run key.",
)


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
