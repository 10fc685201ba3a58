"""PG204 disabled-referenced: a declared reference names a disabled scraper or processor.

Code or configuration still relies on something the registry says is off:
a workflow still scheduling a retired scraper's processor, a monitor still
waiting for it.
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule(
    "PG204", "disabled-referenced", Severity.ERROR,
    "A declared reference names a disabled scraper or processor.",
)


def check(ctx: RuleContext) -> Iterator[Finding]:
    workspace = ctx.workspace
    if workspace is None:
        return
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
