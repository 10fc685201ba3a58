"""PG108 required-not-expected: required (or a mode set) is not a subset of the expected set.

``required`` says which processors a deadline-partial trigger cannot do
without; a required processor that is not expected is never waited for. A
mode's expected set must be part of the transition's, and its required set
part of the mode's.
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.registry.semantics import expected_set
from phasegate.validator.context import NameUse, Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule(
    "PG108", "required-not-expected", Severity.ERROR,
    "required (or a mode set) is not a subset of the expected set.",
)


def _reported_elsewhere(ctx: RuleContext, use: NameUse) -> bool:
    """Unknown, disabled, season-level or wrong-phase names have rules of their own."""
    processor = ctx.registry.processors.get(use.name)
    transition = ctx.registry.transitions[use.transition]
    return (
        processor is None
        or not ctx.enabled.get(use.name, True)
        or not processor.per_run_key
        or processor.phase != transition.from_phase
    )


def check(ctx: RuleContext) -> Iterator[Finding]:
    registry = ctx.registry
    for use in ctx.name_uses():
        if use.field == "expects" or _reported_elsewhere(ctx, use):
            continue
        transition = registry.transitions[use.transition]
        mode = transition.modes.get(use.mode) if use.mode else None
        if use.field.endswith(".required"):
            container = expected_set(registry, transition, mode, ctx.enabled)
            of_what = f"mode {use.mode}'s expected set"
        else:  # required, or a mode's expects against the transition's
            container = expected_set(registry, transition, None, ctx.enabled)
            of_what = f"transition {use.transition}'s expected set"
        if use.name in container:
            continue
        yield ctx.report(
            RULE, use.where,
            f"transition {use.transition} {use.field} lists {use.name}, which is not in "
            f"{of_what}; add it to the expected set or remove it here",
            use.name,
        )
