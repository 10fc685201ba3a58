"""PG107 phase-mismatch: an expected processor from another phase, or to_phase not after
from_phase.
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule(
    "PG107", "phase-mismatch", Severity.ERROR,
    "An expected processor belongs to another phase, or to_phase is not after from_phase.",
)


def check(ctx: RuleContext) -> Iterator[Finding]:
    for t_name, transition in ctx.transitions():
        if transition.to_phase <= transition.from_phase:
            yield ctx.report(
                RULE, ("transitions", t_name, "to_phase"),
                f"transition {t_name} goes from phase {transition.from_phase} to phase "
                f"{transition.to_phase}; to_phase must be after from_phase",
                t_name,
            )
    for use in ctx.name_uses():
        processor = ctx.registry.processors.get(use.name)
        transition = ctx.registry.transitions[use.transition]
        if processor is None or processor.phase == transition.from_phase:
            continue
        yield ctx.report(
            RULE, use.where,
            f"transition {use.transition} (from phase {transition.from_phase}) {use.field} lists "
            f"{use.name}, a phase {processor.phase} processor; a transition waits for processors "
            "of its from_phase",
            use.name,
        )
