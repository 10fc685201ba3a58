"""``path:line:col: error PG102 [disabled-but-expected] message``, one per line."""

from __future__ import annotations

from collections.abc import Sequence

from phasegate.registry.generate import printable
from phasegate.validator.findings import Finding


def _one_line(text: str) -> str:
    """Every control character escaped: a file name or message from a pull request can never
    start a line of its own (a CI runner reads ``::warning`` lines as commands)."""
    return printable(" ".join(text.split("\n")))


def render(findings: Sequence[Finding]) -> str:
    """One line per finding, whatever the message holds, so grep and editors can parse it."""
    return "".join(
        f"{_one_line(f.path)}:{f.line}:{f.column}: {f.severity.value} {f.rule} [{f.name}] "
        f"{_one_line(f.message)}\n"
        for f in findings
    )
