"""PG206 unscannable-reference: a declared reference could not be checked.

A ``references.code`` path that does not exist, a Python file that does not
parse, a referenced file that cannot be read, or a ``select`` path that
matches nothing. Checks that cannot run must not pass silently.
"""

from __future__ import annotations

from collections.abc import Iterator

from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule(
    "PG206", "unscannable-reference", Severity.ERROR,
    "A declared reference could not be checked (missing path, syntax error, no match).",
)


def check(ctx: RuleContext) -> Iterator[Finding]:
    workspace = ctx.workspace
    if workspace is None:
        return
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
