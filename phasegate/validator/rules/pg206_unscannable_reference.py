'''PG206 unscannable-reference: A declared reference could not be checked (missing path, syntax
error, no match).

A declared reference could not be checked: a `references.code` path that
does not exist, a Python file that does not parse (the rest of the scan
continues), a referenced file that cannot be read or parsed, or a `select`
path that matches nothing (the file's layout changed). A check that cannot
run must not pass silently.

Failing:

```yaml
# file: registry/processors.yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2}
references:
  code: [monitoring]
```

Passing:

```yaml
# file: registry/processors.yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2}
references:
  code: [monitoring]
```

```python
# file: monitoring/__init__.py
"""Monitoring scripts."""
```
'''

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, SourceContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule.from_doc(__doc__, Severity.ERROR)


def check(ctx: SourceContext) -> Iterator[Finding]:
    workspace = ctx.workspace
    for item in workspace.unscannable:
        yield ctx.report(RULE, item.where, item.message, item.subject)
    for scan in workspace.scans:
        if scan.syntax_error is not None:
            line, column, message = scan.syntax_error
            yield ctx.report_file(
                RULE, scan.path, line, column,
                f"cannot scan {scan.path}: {message}; its registry names are not checked",
                scan.path)
    for path, problem in workspace.file_problems:
        yield ctx.report_file(
            RULE, path, problem.position.line, problem.position.column,
            f"cannot read referenced file: {problem.message}", path)
