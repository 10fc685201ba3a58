"""PG002 duplicate-key: A mapping key appears twice.

A mapping key appears twice. YAML loaders keep the last value without a
word, so the first entry, often a whole processor, silently disappears.

Failing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_box_scores: {phase: 2, aliases: [BoxScoresProcessor]}
  p2_box_scores: {phase: 2}
```

Passing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_box_scores: {phase: 2, aliases: [BoxScoresProcessor]}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity
from phasegate.validator.rules._loading import loading_findings

RULE = Rule.from_doc(__doc__, Severity.ERROR)


def check(ctx: RuleContext) -> Iterator[Finding]:
    yield from loading_findings(ctx, RULE, "duplicate-key")
