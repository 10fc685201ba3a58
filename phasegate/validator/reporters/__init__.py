"""Output formats over one finding model; each is a pure function to text.

A reporter renders the findings that count (``REPORTERS[format](findings)``);
with ``--baseline``, the command passes the findings the baseline did not
accept and ``baseline=`` the :class:`~phasegate.validator.baseline.Outcome`,
which the JSON and SARIF formats report too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from phasegate.validator.findings import Finding
from phasegate.validator.reporters import github, json_format, sarif, text

if TYPE_CHECKING:
    from phasegate.validator.baseline import Outcome


class Reporter(Protocol):
    def __call__(self, findings: Sequence[Finding], /, *,
                 baseline: Outcome | None = None) -> str: ...


REPORTERS: dict[str, Reporter] = {
    "text": text.render,
    "json": json_format.render,
    "github": github.render,
    "sarif": sarif.render,
}
