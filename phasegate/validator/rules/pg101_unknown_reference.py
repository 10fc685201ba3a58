"""PG101 unknown-reference: A name used in inputs, expects, required or modes is not defined.

A name used in `inputs`, `expects`, `required` or a mode is not defined. The
message suggests the closest defined name, and says so when the name is an
alias (use the canonical name) or a scraper (transitions wait for processors).

Failing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_box_scores: {phase: 2}
transitions:
  phase2_to_phase3:
    from_phase: 2
    to_phase: 3
    collection: phase2_completion
    expects: [p2_box_score]
```

Passing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_box_scores: {phase: 2}
transitions:
  phase2_to_phase3:
    from_phase: 2
    to_phase: 3
    collection: phase2_completion
    expects: [p2_box_scores]
```
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.registry.semantics import alias_map
from phasegate.validator.context import Rule, RuleContext, Suggester
from phasegate.validator.findings import Finding, Severity

RULE = Rule.from_doc(__doc__, Severity.ERROR)


def check(ctx: RuleContext) -> Iterator[Finding]:
    registry = ctx.registry
    aliases = alias_map(registry)
    # a misspelt alias is closest to an alias, so aliases are candidates too, named canonically
    canonical = {alias: name for alias, name in aliases.items() if alias not in registry.scrapers}
    suggest_defined = Suggester([*registry.scrapers, *aliases], canonical=canonical)
    suggest_processor = Suggester(aliases, canonical=aliases)
    for p_name, processor in registry.processors.items():
        for index, name in enumerate(processor.inputs):
            if name not in registry.scrapers and name not in registry.processors:
                yield ctx.report(
                    RULE, ("processors", p_name, "inputs", index),
                    f"{p_name} needs input {name!r}, which is neither a scraper nor a "
                    f"processor{suggest_defined(name)}",
                    name,
                )
    for use in ctx.name_uses():
        if use.name in registry.processors:
            continue
        where = f"transition {use.transition} {use.field}"
        if use.name in registry.scrapers:
            message = (f"{where} names {use.name!r}, which is a scraper; transitions wait for "
                       "processors: name the processor that consumes it")
        elif use.name in aliases:
            message = (f"{where} names {use.name!r}, an alias of {aliases[use.name]}; use the "
                       "canonical name")
        else:
            message = (f"{where} names {use.name!r}, which is not a processor in the registry"
                       f"{suggest_processor(use.name)}")
        yield ctx.report(RULE, use.where, message, use.name)
