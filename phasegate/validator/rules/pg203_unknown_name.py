"""PG203 unknown-name: A name at a declared reference (code or file) is not in the registry.

A name at a declared reference is not in the registry, with the closest
registry name. In Python sources, string literals shaped like registry names
are checked: those with the registry's phase prefixes (such as `p2_`) and
CamelCase names ending in a suffix its aliases share (such as `Processor`).
In `references.files`, every value at the `select` path (`*` matches every
key or item) must be a name of the declared `kind`.

Failing:

```yaml
# file: registry/processors.yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2}
references:
  files:
    - {path: config/workflows.yaml, select: "scrapers.*.processor_name", kind: processor}
```

```yaml
# file: config/workflows.yaml
scrapers:
  gamebook_pdf:
    processor_name: p2_gamebok
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
  files:
    - {path: config/workflows.yaml, select: "scrapers.*.processor_name", kind: processor}
```

```yaml
# file: config/workflows.yaml
scrapers:
  gamebook_pdf:
    processor_name: p2_gamebook
```
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, SourceContext, Suggester
from phasegate.validator.findings import Finding, Severity

RULE = Rule.from_doc(__doc__, Severity.ERROR)


def check(ctx: SourceContext) -> Iterator[Finding]:
    workspace = ctx.workspace
    vocabulary = workspace.vocabulary
    suggest_known = Suggester((*vocabulary.aliases, *vocabulary.scrapers))
    suggest = {"processor": Suggester(vocabulary.aliases),
               "scraper": Suggester(vocabulary.scrapers)}
    for scan in workspace.scans:
        for found in scan.strings:
            if found.kind is not None:  # passed to a function of references.calls
                if vocabulary.is_name_of(found.value, found.kind):
                    continue
                yield ctx.report_file(
                    RULE, scan.path, found.line, found.column,
                    f"{found.value!r} is passed where a {found.kind} name belongs but is not "
                    f"a {found.kind} in the registry{suggest[found.kind](found.value)}",
                    found.value)
                continue
            if vocabulary.is_registry_name(found.value):
                continue
            yield ctx.report_file(
                RULE, scan.path, found.line, found.column,
                f"{found.value!r} looks like a registry name but is not in the registry"
                f"{suggest_known(found.value)}", found.value)
    for value in workspace.values:
        names = vocabulary.aliases if value.kind == "processor" else vocabulary.scrapers
        if value.value in names:
            continue
        yield ctx.report_file(
            RULE, value.path, value.line, value.column,
            f"{value.select} names {value.kind} {value.value!r}, which is not in the registry"
            f"{suggest[value.kind](value.value)}", value.value)
