"""Shared by PG001-PG003: problems found while loading, turned into findings."""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding


def loading_findings(ctx: RuleContext, rule: Rule, kind: str) -> Iterator[Finding]:
    for problem in ctx.loaded.problems:
        if problem.kind == kind:
            yield ctx.report(rule, problem.position, problem.message, problem.subject)
