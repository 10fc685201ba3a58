"""PG201 stale-generated: a generated artifact is missing, hand-edited, or differs from the
registry.

The runtime reads only its generated files; if they lag the registry, the
orchestrator waits for the wrong processors. ``phasegate generate`` fixes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from phasegate.validator.context import Rule, RuleContext
from phasegate.validator.findings import Finding, Severity

RULE = Rule(
    "PG201", "stale-generated", Severity.ERROR,
    "A generated artifact is missing, hand-edited, or differs from the registry.",
)
_DIGEST = re.compile(r"[0-9a-f]{64}")


def check(ctx: RuleContext) -> Iterator[Finding]:
    if ctx.workspace is None:
        return
    for state in ctx.workspace.artifacts:
        expected, actual = state.expected, state.actual
        if actual == expected.text:
            continue
        if actual is None:
            yield ctx.report_file(
                RULE, expected.path, 1, 1,
                f"{expected.path} is missing; run `phasegate generate` to write it",
                expected.path)
            continue
        line = _first_difference(expected.text, actual)
        ours = _DIGEST.search(expected.text)
        theirs = _DIGEST.search("\n".join(actual.splitlines()[:3]))
        if ours and theirs and ours.group() == theirs.group():
            why = "was edited by hand (its digest matches the registry, its content does not)"
        elif theirs:
            why = (f"was generated from another registry (digest {theirs.group()[:12]}, "
                   f"current {ours.group()[:12] if ours else '?'})")
        else:
            why = "does not carry a registry digest (hand-written?)"
        yield ctx.report_file(
            RULE, expected.path, line, 1,
            f"{expected.path} {why}; first difference at line {line}; run `phasegate generate` "
            "and do not edit generated files", expected.path)


def _first_difference(expected: str, actual: str) -> int:
    ours, theirs = expected.splitlines(), actual.splitlines()
    for number, (a, b) in enumerate(zip(ours, theirs, strict=False), start=1):
        if a != b:
            return number
    return min(len(ours), len(theirs)) + 1
