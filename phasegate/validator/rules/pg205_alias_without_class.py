"""PG205 alias-without-class (warning): A class-like alias matches no class defined in the scanned
code.

A CamelCase alias of an enabled processor matches no class
defined anywhere in the scanned code, with the closest class name. A
misspelt alias (`NbacGambookProcessor`) meant one processor's completions
went uncounted for 13 days. Checked only when the scanned code defines at
least one class that some alias names, that is when the processors' own
code is in scope.

Failing:

```yaml
# file: registry/processors.yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2, aliases: [NbacGambookProcessor]}
  p2_boxscores: {phase: 2, aliases: [NbacPlayerBoxscoreProcessor]}
references:
  code: [processors]
```

```python
# file: processors/nbac.py
class NbacGamebookProcessor:
    pass


class NbacPlayerBoxscoreProcessor:
    pass
```

Passing:

```yaml
# file: registry/processors.yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2, aliases: [NbacGamebookProcessor]}
  p2_boxscores: {phase: 2, aliases: [NbacPlayerBoxscoreProcessor]}
references:
  code: [processors]
```

```python
# file: processors/nbac.py
class NbacGamebookProcessor:
    pass


class NbacPlayerBoxscoreProcessor:
    pass
```
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, SourceContext, Suggester
from phasegate.validator.findings import Finding, Severity

RULE = Rule.from_doc(__doc__, Severity.WARNING)


def check(ctx: SourceContext) -> Iterator[Finding]:
    workspace = ctx.workspace
    classes = workspace.classes
    if not classes & workspace.vocabulary.class_like_aliases:
        return
    suggest = Suggester(classes)
    for p_name, processor in ctx.registry.processors.items():
        if not ctx.enabled.get(p_name, True):
            continue  # a disabled processor's class may rightly be gone
        for index, alias in enumerate(processor.aliases):
            if alias not in workspace.vocabulary.class_like_aliases or alias in classes:
                continue
            yield ctx.report(
                RULE, ("processors", p_name, "aliases", index),
                f"alias {alias!r} of {p_name} matches no class in the scanned code, so reports "
                f"under the real class name are not counted{suggest(alias)}",
                alias)
