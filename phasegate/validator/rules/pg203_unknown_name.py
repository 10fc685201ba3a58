"""PG203 unknown-name: a name at a declared reference (code or file) is not in the registry.

In code, string literals shaped like registry names (the registry's own
prefixes such as ``p2_``, or its alias suffixes such as ``Processor``) are
checked; in referenced files, every value at the ``select`` path. The message
suggests the closest registry name.
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, RuleContext, Suggester
from phasegate.validator.findings import Finding, Severity

RULE = Rule(
    "PG203", "unknown-name", Severity.ERROR,
    "A name at a declared reference (code or file) is not in the registry.",
)


def check(ctx: RuleContext) -> Iterator[Finding]:
    workspace = ctx.workspace
    if workspace is None:
        return
    vocabulary = workspace.vocabulary
    suggest_known = Suggester((*vocabulary.aliases, *vocabulary.scrapers))
    for scan in workspace.scans:
        for found in scan.strings:
            if vocabulary.is_registry_name(found.value):
                continue
            yield ctx.report_file(
                RULE, scan.path, found.line, found.column,
                f"{found.value!r} looks like a registry name but is not in the registry"
                f"{suggest_known(found.value)}", found.value)
    suggest = {"processor": Suggester(vocabulary.aliases),
               "scraper": Suggester(vocabulary.scrapers)}
    for value in workspace.values:
        names = vocabulary.aliases if value.kind == "processor" else vocabulary.scrapers
        if value.value in names:
            continue
        yield ctx.report_file(
            RULE, value.path, value.line, value.column,
            f"{value.select} names {value.kind} {value.value!r}, which is not in the registry"
            f"{suggest[value.kind](value.value)}", value.value)
