"""PG001 yaml-syntax: The file does not parse as YAML.

The file does not parse as YAML: a bad indent, an unclosed bracket, a tab,
more than one document, bytes that are not UTF-8, or input refused as absurd
(an alias bomb that expands past a million values, a recursive alias).
Nothing else is checked until it parses.

Failing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_box_scores: {phase: 2, inputs: [box_scores
```

Passing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_box_scores: {phase: 2}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity
from phasegate.validator.rules._loading import loading_findings

RULE = Rule.from_doc(__doc__, Severity.ERROR)


def check(ctx: RuleContext) -> Iterator[Finding]:
    yield from loading_findings(ctx, RULE, "syntax")
