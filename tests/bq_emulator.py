"""The BigQuery emulator (bqemulator, PyPI) for the mirror's tests: skip, or fail under CI=true."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from phasegate.scenario.emulators import BigQueryEmulator, bqemulator_problem

__all__ = ["BigQueryEmulator", "require_bqemulator", "start_bqemulator"]


def _unavailable(problem: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"BigQuery emulator tests cannot run: {problem} (CI=true: this is a "
                    "failure)")
    pytest.skip(f"BigQuery emulator tests skipped: {problem}")


def require_bqemulator() -> None:
    os.environ.setdefault("NO_GCE_CHECK", "True")
    problem = bqemulator_problem()
    if problem:
        _unavailable(problem)


def start_bqemulator(log_dir: Path, project: str = "phasegate-test") -> BigQueryEmulator:
    """A started emulator on free loopback ports (the caller stops it)."""
    require_bqemulator()
    emulator = BigQueryEmulator(project=project)
    try:
        return emulator.start(log_dir)
    except RuntimeError as error:
        _unavailable(f"bqemulator did not start: {error}")
        raise
