"""PG103 enabled-with-disabled-input: An enabled processor needs a disabled scraper or processor.

A processor's own flag says enabled, but one of its inputs is not, so it can
never run. Say so with `enabled: false` and a reason, or re-enable the input.

Failing:

```yaml
version: 1
pipeline: demo
timezone: UTC
scrapers:
  bdl_box_scores: {enabled: false, disabled_reason: API retired}
processors:
  p2_gamebook: {phase: 2}
  p2_bdl_box_scores: {phase: 2, inputs: [bdl_box_scores]}
```

Passing:

```yaml
version: 1
pipeline: demo
timezone: UTC
scrapers:
  bdl_box_scores: {enabled: false, disabled_reason: API retired}
processors:
  p2_gamebook: {phase: 2}
  p2_bdl_box_scores:
    phase: 2
    inputs: [bdl_box_scores]
    enabled: false
    disabled_reason: input scraper retired
```
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.registry.semantics import describe_causes, disabled_causes
from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule.from_doc(__doc__, Severity.ERROR)


def check(ctx: RuleContext) -> Iterator[Finding]:
    registry = ctx.registry
    for p_name, processor in registry.processors.items():
        if not processor.enabled:
            continue
        for index, name in enumerate(processor.inputs):
            known = name in registry.scrapers or name in registry.processors
            if not known or ctx.enabled.get(name, True):
                continue
            causes = describe_causes(disabled_causes(registry, name))
            yield ctx.report(
                RULE, ("processors", p_name, "inputs", index),
                f"{p_name} is enabled but its input {name} is not ({causes}); set "
                f"enabled: false with a disabled_reason on {p_name}, or re-enable {name}",
                name,
            )
