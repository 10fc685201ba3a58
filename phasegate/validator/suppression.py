"""Inline suppressions: ``# phasegate: ignore[PG202] reason`` on the offending line.

A suppression needs a reason; one without a reason suppresses nothing, and a
suppression that matches no finding is itself reported (PG207), so stale
ignores do not pile up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from phasegate.validator.findings import Finding, Severity

PATTERN = re.compile(r"#\s*phasegate:\s*ignore\[([^\]]*)\]\s*(.*?)\s*$")
UNUSED_CODE, UNUSED_NAME = "PG207", "unused-suppression"


@dataclass(frozen=True)
class Suppression:
    line: int
    column: int
    codes: tuple[str, ...]
    reason: str


def find_suppressions(text: str) -> list[Suppression]:
    """Every suppression comment in a file's text (Python or YAML)."""
    if "phasegate:" not in text:
        return []
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = PATTERN.search(line)
        if match:
            codes = tuple(c.strip().upper() for c in match.group(1).split(",") if c.strip())
            found.append(Suppression(number, match.start() + 1, codes, match.group(2)))
    return found


def suppressible(code: str) -> bool:
    """Only findings in code and referenced files (PG2xx, not PG201) can be suppressed.

    A registry that does not parse or breaks a rule never passes: an
    ``ignore[PG001]`` on a broken line suppresses nothing (and says so). A stale
    generated artifact (PG201) is fixed by ``phasegate generate``, never silenced.
    """
    return code.startswith("PG2") and code != "PG201"


def apply_suppressions(
    findings: Sequence[Finding], suppressions: Mapping[str, Iterable[Suppression]],
    never_in: Iterable[str] = (),
) -> list[Finding]:
    """Drop suppressed findings; report suppressions that are reasonless or unused.

    A comment in a file of ``never_in`` (the registry, the generated artifacts)
    suppresses nothing: a registry or artifact that is wrong never passes.
    """
    excluded = set(never_in)
    by_place = {(path, s.line): s for path, items in suppressions.items() for s in items
                if path not in excluded}
    used: set[tuple[str, int, str]] = set()
    kept: list[Finding] = []
    for finding in findings:
        suppression = by_place.get((finding.path, finding.line))
        if (suppression and suppression.reason and finding.rule in suppression.codes
                and suppressible(finding.rule)):
            used.add((finding.path, finding.line, finding.rule))
            continue
        kept.append(finding)
    for path, items in suppressions.items():
        if path in excluded:
            continue
        for s in items:
            if not s.reason:
                kept.append(_warning(path, s, "this suppression has no reason, so it suppresses "
                                     "nothing; say why after the brackets"))
                continue
            for code in s.codes:
                if not suppressible(code):
                    kept.append(_warning(path, s, f"ignore[{code}] cannot suppress a registry "
                                         "finding (only PG2xx in code and referenced files); "
                                         "fix the registry instead", code))
                elif (path, s.line, code) not in used:
                    kept.append(_warning(path, s, f"ignore[{code}] suppresses nothing on this "
                                         "line; remove it", code))
    return sorted(kept)


def _warning(path: str, s: Suppression, message: str, subject: str = "") -> Finding:
    return Finding(path, s.line, s.column, UNUSED_CODE, UNUSED_NAME, Severity.WARNING,
                   message, subject)
