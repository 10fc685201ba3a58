"""PG107 phase-mismatch: An expected processor belongs to another phase, or to_phase is not after
from_phase.

A transition names a processor of another phase than its `from_phase`, or
its `to_phase` is not after its `from_phase`.

Failing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2}
  player_game_summary: {phase: 3, inputs: [p2_gamebook]}
transitions:
  phase2_to_phase3:
    from_phase: 2
    to_phase: 3
    collection: phase2_completion
    expects: [p2_gamebook, player_game_summary]
```

Passing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2}
  player_game_summary: {phase: 3, inputs: [p2_gamebook]}
transitions:
  phase2_to_phase3:
    from_phase: 2
    to_phase: 3
    collection: phase2_completion
    expects: [p2_gamebook]
```
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule.from_doc(__doc__, Severity.ERROR)


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
