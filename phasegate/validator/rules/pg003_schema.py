"""PG003 schema: Unknown field, wrong type, missing field or ambiguous boolean.

An unknown field (with a "did you mean"), a value of the wrong type, a
missing required field, a name that is not an identifier, an unknown
timezone, `action: trigger` without `trigger_topic`, a URL where an
environment variable name belongs, a non-finite number (`.inf`, `.nan`), a
`canary.schedule` that is not valid five-field cron, or an ambiguous
boolean. Booleans are
`true` and `false` only: `yes`, `no`, `on` and `off` are booleans in YAML 1.1
and strings in YAML 1.2, so they are rejected.

Failing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_box_scores:
    phase: 2
    enabled: yes
```

Passing:

```yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_box_scores:
    phase: 2
    enabled: true
```
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity
from phasegate.validator.rules._loading import loading_findings

RULE = Rule.from_doc(__doc__, Severity.ERROR)


def check(ctx: RuleContext) -> Iterator[Finding]:
    yield from loading_findings(ctx, RULE, "schema")
