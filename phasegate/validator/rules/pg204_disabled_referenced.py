"""PG204 disabled-referenced: A declared reference names a disabled scraper or processor.

A declared reference (a string literal in scanned code, or a value in a
referenced file) names a disabled scraper or processor, or an alias or
output table of a disabled processor. The message quotes why it is
disabled. Names with an underscore are also found inside longer strings
(a query, a path, a message) at word boundaries: `"FROM nba_raw.bdl_boxes"`
mentions `nba_raw.bdl_boxes`, `"nba_raw.bdl_boxes_v2"` does not. Docstrings
are prose and are not read.

Two places may name a disabled entry: where the code itself switches it off
(a dict entry mapping the name to `False`, `None` or `"disabled"`), and the
disabled processor's own module (a file that defines a class named by one of
its aliases may name that processor and its aliases). A referenced file
that carries its own flag for the name (`enabled:` in `references.files`)
is PG209's to compare instead.

Failing:

```yaml
# file: registry/processors.yaml
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_gamebook: {phase: 2}
  p2_bdl_box_scores:
    {phase: 2, enabled: false, disabled_reason: API retired, aliases: [BdlBoxScoresProcessor]}
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
  p2_bdl_box_scores:
    {phase: 2, enabled: false, disabled_reason: API retired, aliases: [BdlBoxScoresProcessor]}
references:
  code: [monitoring]
```

```python
# file: monitoring/backfill.py
SWITCHES = {"p2_gamebook": True, "p2_bdl_box_scores": False}


def backfill(run) -> None:
    run("p2_gamebook")
```

```python
# file: monitoring/bdl.py
class BdlBoxScoresProcessor:
    name = "p2_bdl_box_scores"
```
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, SourceContext
from phasegate.validator.findings import Finding, Severity
from phasegate.validator.scan import FileScan, NameString
from phasegate.validator.vocabulary import Vocabulary

RULE = Rule.from_doc(__doc__, Severity.ERROR)


def check(ctx: SourceContext) -> Iterator[Finding]:
    workspace = ctx.workspace
    disabled = workspace.vocabulary.disabled
    for scan in workspace.scans:
        for found in scan.strings:
            if (found.value in disabled and not _exempt(found, scan, workspace.vocabulary)
                    and (found.kind is None
                         or workspace.vocabulary.is_name_of(found.value, found.kind))):
                where = "this string mentions " if found.embedded else ""
                yield ctx.report_file(
                    RULE, scan.path, found.line, found.column,
                    f"{where}{found.value!r}, which is disabled in the registry "
                    f"({disabled[found.value]}); remove this reference or re-enable it in the "
                    "registry", found.value)
    for value in workspace.values:
        if value.value in disabled and value.enabled is None:  # a flag beside it: PG209's
            yield ctx.report_file(
                RULE, value.path, value.line, value.column,
                f"{value.select} names {value.value!r}, which is disabled in the registry "
                f"({disabled[value.value]}); remove it here or re-enable it", value.value)


def _exempt(found: NameString, scan: FileScan, vocabulary: Vocabulary) -> bool:
    """The code switches the name off itself, or this is the disabled processor's own module."""
    return found.switched_off or vocabulary.aliases.get(found.value) in scan.owners
