"""PG209 enablement-disagrees: A config file enables what the registry disables, or the reverse.

Which scrapers run is often also written in another config file (a retry
or scheduling config with an `enabled:` flag per entry). A
`references.files` entry with `enabled: FIELD` reads that flag beside each
name (in the mapping the name is a key of, with `key: true`, or the mapping
holding the name's value) and compares it with the registry: the registry
disables a name the file enables (it runs, and nothing waits for it), or
the file disables a name the registry expects (the orchestrator waits for
a processor that never runs). An entry without the field is not compared.
A flag that is not `true` or `false` is PG206.

Failing:

```yaml
# file: registry/processors.yaml
version: 1
pipeline: demo
timezone: UTC
scrapers:
  gamebook_pdf: {}
  bdl_box_scores: {enabled: false, disabled_reason: API retired}
processors:
  p2_gamebook: {phase: 2, inputs: [gamebook_pdf]}
references:
  files:
    - {path: config/retry.yaml, select: "scrapers.*", key: true, enabled: enabled,
       kind: scraper}
```

```yaml
# file: config/retry.yaml
scrapers:
  gamebook_pdf: {enabled: true, retries: 3}
  bdl_box_scores: {enabled: true, retries: 5}
```

Passing:

```yaml
# file: registry/processors.yaml
version: 1
pipeline: demo
timezone: UTC
scrapers:
  gamebook_pdf: {}
  bdl_box_scores: {enabled: false, disabled_reason: API retired}
processors:
  p2_gamebook: {phase: 2, inputs: [gamebook_pdf]}
references:
  files:
    - {path: config/retry.yaml, select: "scrapers.*", key: true, enabled: enabled,
       kind: scraper}
```

```yaml
# file: config/retry.yaml
scrapers:
  gamebook_pdf: {enabled: true, retries: 3}
  bdl_box_scores: {enabled: false, retries: 5}
```
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, SourceContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule.from_doc(__doc__, Severity.ERROR)


def check(ctx: SourceContext) -> Iterator[Finding]:
    vocabulary = ctx.workspace.vocabulary
    disabled = vocabulary.disabled
    for value in ctx.workspace.values:
        if value.enabled is None or not vocabulary.is_name_of(value.value, value.kind):
            continue  # no flag here, or an unknown name (PG203's)
        in_registry = value.value not in disabled
        if value.enabled == in_registry:
            continue
        if value.enabled:
            message = (f"{value.path} enables {value.value!r}, which the registry disables "
                       f"({disabled[value.value]}); set it to false here or enable it in the "
                       "registry")
        else:
            message = (f"{value.path} disables {value.value!r}, which the registry enables; "
                       "disable it in the registry (with a disabled_reason) so that nothing "
                       "waits for it, or enable it here")
        yield ctx.report_file(RULE, value.path, value.line, value.column, message, value.value)
