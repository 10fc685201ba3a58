"""PG102 disabled-but-expected: an expected/required/mode set names a processor that is
not effectively enabled.

The transition would wait forever: a scraper was disabled but the transition
still expected its processor (5 of 6 complete, never triggered, three days of
silence). The message names the disabled entry, its reason and date.
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.registry.semantics import describe_causes, disabled_causes
from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule(
    "PG102", "disabled-but-expected", Severity.ERROR,
    "An expected, required or mode set names a processor that is not effectively enabled.",
)


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
