"""``phasegate test``: load scenario files, run them on the emulators, report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from phasegate.usage import UsageError

EXIT_PASSED, EXIT_FAILED, EXIT_MALFORMED = 0, 1, 2


def scenario_files(paths: Sequence[Path]) -> list[Path]:
    """The files named, and every ``*.yaml`` in the directories named."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        elif path.is_file():
            files.append(path)
        else:
            raise UsageError(f"{path}: no such scenario file or directory")
    if not files:
        raise UsageError("no scenario files found")
    return files


def test_command(paths: Sequence[Path], *, junit: Path | None, output_format: str,
                 out: TextIO, err: TextIO) -> int:
    """0 every scenario passed, 1 one failed, 2 a malformed scenario (file, line, column)."""
    from phasegate.scenario import report
    from phasegate.scenario.emulators import EmulatorsUnavailable, running_emulators
    from phasegate.scenario.spec import ScenarioError, load_scenario

    try:
        scenarios = [load_scenario(path) for path in scenario_files(paths)]
    except ScenarioError as error:
        print(f"{error}", file=err)
        return EXIT_MALFORMED
    try:
        with running_emulators():
            from phasegate.scenario.runner import run_scenario

            results = [run_scenario(scenario) for scenario in scenarios]
    except EmulatorsUnavailable as error:
        raise UsageError(f"scenarios need the emulators: {error}") from error
    except ScenarioError as error:
        print(f"{error}", file=err)
        return EXIT_MALFORMED
    render = report.as_json if output_format == "json" else report.text
    out.write(render(results))
    if junit:
        junit.write_text(report.junit(results), encoding="utf-8")
    return EXIT_PASSED if all(r.passed for r in results) else EXIT_FAILED
