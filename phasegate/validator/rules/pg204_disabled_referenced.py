"""PG204 disabled-referenced: A declared reference names a disabled scraper or processor.

A declared reference (a string literal in scanned code, or a value in a
referenced file) names a disabled scraper or processor, or an alias of a
disabled processor. The message quotes why it is disabled.

Failing:

```yaml
# file: registry/processors.yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2}
  p2_bdl_box_scores: {phase: 2, enabled: false, disabled_reason: API retired}
references:
  code: [monitoring]
```

```python
# file: monitoring/backfill.py
def backfill(run) -> None:
    run("p2_bdl_box_scores")
```

Passing:

```yaml
# file: registry/processors.yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2}
  p2_bdl_box_scores: {phase: 2, enabled: false, disabled_reason: API retired}
references:
  code: [monitoring]
```

```python
# file: monitoring/backfill.py
def backfill(run) -> None:
    run("p2_gamebook")
```
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, SourceContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule.from_doc(__doc__, Severity.ERROR)


def check(ctx: SourceContext) -> Iterator[Finding]:
    workspace = ctx.workspace
    disabled = workspace.vocabulary.disabled
    for scan in workspace.scans:
        for found in scan.strings:
            if found.value in disabled:
                yield ctx.report_file(
                    RULE, scan.path, found.line, found.column,
                    f"{found.value!r} is disabled in the registry ({disabled[found.value]}); "
                    "remove this reference or re-enable it in the registry", found.value)
    for value in workspace.values:
        if value.value in disabled:
            yield ctx.report_file(
                RULE, value.path, value.line, value.column,
                f"{value.select} names {value.value!r}, which is disabled in the registry "
                f"({disabled[value.value]}); remove it here or re-enable it", value.value)
