"""Output formats over one finding model; each is a pure function to text."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from phasegate.validator.findings import Finding
from phasegate.validator.reporters import github, json_format, sarif, text

Reporter = Callable[[Sequence[Finding]], str]

REPORTERS: dict[str, Reporter] = {
    "text": text.render,
    "json": json_format.render,
    "github": github.render,
    "sarif": sarif.render,
}
