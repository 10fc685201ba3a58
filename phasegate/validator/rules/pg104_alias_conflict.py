"""PG104 alias-conflict: an alias claimed twice, or equal to another processor's name.

A reported name must resolve to exactly one processor, or completions are
counted for the wrong one.
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule(
    "PG104", "alias-conflict", Severity.ERROR,
    "An alias is claimed twice, or equals another processor's name.",
)


def check(ctx: RuleContext) -> Iterator[Finding]:
    processors = ctx.registry.processors
    owner: dict[str, tuple[str, tuple[str, str, str, int]]] = {}
    for p_name, processor in processors.items():
        for index, alias in enumerate(processor.aliases):
            where = ("processors", p_name, "aliases", index)
            if alias in processors and alias != p_name:
                yield ctx.report(
                    RULE, where,
                    f"alias {alias!r} of {p_name} is the name of another processor; a report "
                    f"under it would count for {alias}; remove or rename the alias",
                    alias,
                )
            elif alias in owner:
                first, first_where = owner[alias]
                line = ctx.at(first_where).line
                claim = "again" if first == p_name else f"already by {first} (line {line})"
                yield ctx.report(
                    RULE, where,
                    f"alias {alias!r} is claimed {claim}; each reported name must belong to "
                    "exactly one processor",
                    alias,
                )
            else:
                owner[alias] = (p_name, where)
