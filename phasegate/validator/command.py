"""``phasegate validate``: check, report in the chosen format, and say what the exit means."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from phasegate.registry.loading import LoadedRegistry

EXIT_CLEAN, EXIT_FINDINGS = 0, 1


def validate_command(loaded: LoadedRegistry, root: Path, *, output_format: str, strict: bool,
                     out: TextIO, err: TextIO) -> int:
    """0 clean (warnings allowed unless ``strict``), 1 findings at error level."""
    from phasegate.validator.check import check_loaded
    from phasegate.validator.findings import summarize
    from phasegate.validator.reporters import REPORTERS

    findings = check_loaded(loaded, root)
    out.write(REPORTERS[output_format](findings))
    summary = summarize(findings)
    if findings:
        print(f"phasegate: {loaded.path}: {summary.errors} error(s), {summary.warnings} "
              "warning(s)", file=err)
    else:
        print(f"phasegate: {loaded.path}: no problems found", file=err)
    failed = summary.errors > 0 or (strict and summary.warnings > 0)
    return EXIT_FINDINGS if failed else EXIT_CLEAN
