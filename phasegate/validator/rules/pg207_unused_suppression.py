"""PG207 unused-suppression (warning): An inline suppression has no reason, or suppresses nothing.

An inline suppression has no reason (so it suppresses
nothing), or matches no finding on its line.

Failing:

```yaml
# file: registry/processors.yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2}
  p2_boxscores: {phase: 2}
references:
  code: [monitoring]
```

```python
# file: monitoring/check.py
NAMES = ["p2_gamebook"]  # phasegate: ignore[PG202] one name is not a list copy
```

Passing:

```yaml
# file: registry/processors.yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2}
  p2_boxscores: {phase: 2}
  p2_lines: {phase: 2}
transitions:
  phase2_to_phase3: {from_phase: 2, to_phase: 3, collection: phase2_completion}
references:
  code: [monitoring]
```

```python
# file: monitoring/check.py
LEGACY = ["p2_gamebook", "p2_boxscores", "p2_lines"]  # phasegate: ignore[PG202] frozen
```
"""

from __future__ import annotations

from phasegate.validator.context import Rule
from phasegate.validator.findings import Severity

RULE = Rule.from_doc(__doc__, Severity.WARNING)
# No check(): suppressions are judged after every other rule ran
# (phasegate.validator.suppression.apply_suppressions reports PG207).
