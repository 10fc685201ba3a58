"""PG108 required-not-expected: required (or a mode set) is not a subset of the expected set.

`required` lists a processor the transition does not expect (so it is never
waited for), a mode expects a processor outside the transition's expected
set, or a mode's `required` is not part of the mode's expected set.

Failing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2}
  p2_boxscores: {phase: 2}
transitions:
  phase2_to_phase3:
    from_phase: 2
    to_phase: 3
    collection: phase2_completion
    expects: [p2_gamebook]
    required: [p2_boxscores]
```

Passing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2}
  p2_boxscores: {phase: 2}
transitions:
  phase2_to_phase3:
    from_phase: 2
    to_phase: 3
    collection: phase2_completion
    expects: [p2_gamebook, p2_boxscores]
    required: [p2_boxscores]
```
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.registry.semantics import expected_set
from phasegate.validator.context import NameUse, Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule.from_doc(__doc__, Severity.ERROR)


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
