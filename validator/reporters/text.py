"""``path:line:col: error PG102 [disabled-but-expected] message``, one per line."""

from __future__ import annotations

from collections.abc import Sequence

from validator.findings import Finding


def render(findings: Sequence[Finding]) -> str:
    return "".join(
        f"{f.path}:{f.line}:{f.column}: {f.severity.value} {f.rule} [{f.name}] {f.message}\n"
        for f in findings
    )
