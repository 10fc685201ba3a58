"""``phasegate graph``: read the registry, draw it in the chosen format, print it."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from phasegate.usage import UsageError

if TYPE_CHECKING:
    from phasegate.registry.loading import LoadedRegistry

EXIT_CLEAN = 0


def graph_command(loaded: LoadedRegistry, *, output_format: str, out: TextIO) -> int:
    from phasegate.graph import dot, mermaid, svg
    from phasegate.graph.model import build
    from phasegate.validator.check import check_loaded
    from phasegate.validator.findings import Severity

    errors = [f for f in check_loaded(loaded) if f.severity is Severity.ERROR]
    if loaded.registry is None or errors:
        codes = ", ".join(sorted({f.rule for f in errors}))
        raise UsageError(f"{loaded.path} has errors{f' ({codes})' if codes else ''}; a "
                         "picture of it would mislead: run `phasegate validate`")
    renderers = {"mermaid": mermaid.render, "dot": dot.render, "svg": svg.render}
    out.write(renderers[output_format](build(loaded.registry)))
    return EXIT_CLEAN
