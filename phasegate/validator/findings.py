"""The one finding model that every rule yields and every reporter renders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How bad a finding is: errors fail the build, warnings only with --strict."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Finding:
    """One problem at one place: what is wrong, and what to do about it."""

    path: str
    line: int
    column: int
    rule: str
    name: str
    severity: Severity
    message: str
    subject: str = ""


@dataclass(frozen=True)
class Summary:
    errors: int
    warnings: int


def summarize(findings: Iterable[Finding]) -> Summary:
    """Count findings by severity."""
    errors = warnings = 0
    for finding in findings:
        if finding.severity is Severity.ERROR:
            errors += 1
        else:
            warnings += 1
    return Summary(errors, warnings)
