"""GitHub Actions workflow commands, which annotate the pull request diff."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from phasegate.validator.findings import Finding

if TYPE_CHECKING:
    from phasegate.validator.baseline import Outcome


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(findings: Sequence[Finding], /, *, baseline: Outcome | None = None) -> str:
    """Annotations for ``findings`` only: baselined findings are not annotated."""
    return "".join(
        f"::{f.severity.value} file={_property(f.path)},line={f.line},col={f.column},"
        f"title={_property(f'{f.rule} {f.name}')}::{_data(f.message)}\n"
        for f in findings
    )
