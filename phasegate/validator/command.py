"""``phasegate validate``: check, report in the chosen format, and say what the exit means."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from phasegate.registry.loading import LoadedRegistry
from phasegate.usage import UsageError

EXIT_CLEAN, EXIT_FINDINGS = 0, 1


def validate_command(loaded: LoadedRegistry, root: Path, *, output_format: str, strict: bool,
                     out: TextIO, err: TextIO, baseline: Path | None = None,
                     update_baseline: bool = False) -> int:
    """0 clean (warnings allowed unless ``strict``), 1 findings at error level.

    With ``baseline``, only findings the baseline file does not hold count; the
    file is read only then. With ``update_baseline`` too, the file is first
    rewritten to hold every finding that can be baselined (unless the registry
    itself has errors, when its code was not fully checked), then used.
    """
    from phasegate.validator import baseline as baselines
    from phasegate.validator.check import check_loaded
    from phasegate.validator.findings import Severity, summarize
    from phasegate.validator.reporters import REPORTERS
    from phasegate.validator.reporters.text import baseline_note

    if update_baseline and baseline is None:
        raise UsageError("--update-baseline needs --baseline FILE (the file to write)")
    entries: list[baselines.Entry] | None = None
    if baseline is not None:
        baselines.confined(baseline, root)  # refuse a path outside the root before checking
        if not update_baseline:
            entries = baselines.load(baseline, root)

    from phasegate.progress import on_terminal

    findings = check_loaded(loaded, root, progress=on_terminal(err, "phasegate: scanning"))
    outcome: baselines.Outcome | None = None
    if baseline is not None:
        lines = baselines.line_texts(root, findings)
        if update_baseline:
            if loaded.registry is None or any(
                    f.severity is Severity.ERROR and not f.rule.startswith("PG2")
                    for f in findings):
                print(f"phasegate: {baseline}: not updated: the registry has errors, so the "
                      "code was not fully checked; fix them first", file=err)
            else:
                entries = baselines.entries_for(findings, lines)
                shown = baselines.write(baseline, root, entries)
                print(f"phasegate: {shown}: wrote {len(entries)} baseline entries", file=err)
        if entries is not None:
            outcome = baselines.match(findings, lines, entries)

    reported = list(outcome.new) if outcome is not None else findings
    out.write(REPORTERS[output_format](reported, baseline=outcome))
    summary = summarize(reported)
    accepted = f" ({len(outcome.matched)} baselined)" if outcome is not None else ""
    if reported:
        print(f"phasegate: {loaded.path}: {summary.errors} error(s), {summary.warnings} "
              f"warning(s){accepted}", file=err)
    else:
        print(f"phasegate: {loaded.path}: no problems found{accepted}", file=err)
    note = baseline_note(outcome) if outcome is not None else None
    if note:
        print(note, file=err)
    failed = summary.errors > 0 or (strict and summary.warnings > 0)
    return EXIT_FINDINGS if failed else EXIT_CLEAN
