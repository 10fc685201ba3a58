"""PG205 alias-without-class (warning): a class-like alias matches no class defined in the
scanned code.

A misspelt alias (``NbacGambookProcessor``) means that processor's reports
are never counted. Checked only when the scanned code defines at least one
class that some alias names, that is when the processors' code is in scope,
and only for enabled processors (a disabled one's class may rightly be gone).
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, RuleContext, Suggester
from phasegate.validator.findings import Finding, Severity

RULE = Rule(
    "PG205", "alias-without-class", Severity.WARNING,
    "A class-like alias matches no class defined in the scanned code.",
)


def check(ctx: RuleContext) -> Iterator[Finding]:
    workspace = ctx.workspace
    if workspace is None:
        return
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
