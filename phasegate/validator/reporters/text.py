"""``path:line:col: error PG102 [disabled-but-expected] message``, one per line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from phasegate.runtime import printable
from phasegate.validator.findings import Finding

if TYPE_CHECKING:
    from phasegate.validator.baseline import Outcome


def _one_line(text: str) -> str:
    """Every control character escaped: a file name or message from a pull request can never
    start a line of its own (a CI runner reads ``::warning`` lines as commands)."""
    return printable(" ".join(text.split("\n")))


def render(findings: Sequence[Finding], /, *, baseline: Outcome | None = None) -> str:
    """One line per finding, whatever the message holds, so grep and editors can parse it.

    Baselined findings are not listed; :func:`baseline_note` is the stderr line about them.
    """
    return "".join(
        f"{_one_line(f.path)}:{f.line}:{f.column}: {f.severity.value} {f.rule} [{f.name}] "
        f"{_one_line(f.message)}\n"
        for f in findings
    )


def baseline_note(baseline: Outcome) -> str | None:
    """The stderr line for baseline entries that match no finding any more, or None."""
    count = len(baseline.fixed)
    if not count:
        return None
    entries = "entry no longer matches" if count == 1 else "entries no longer match"
    return f"phasegate: {count} baseline {entries}; run --update-baseline"
