"""Emulator fixtures' helpers: the package's emulators, and skip-or-fail when absent."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from phasegate.scenario.emulators import Emulator, free_port, sdk_problem, sdk_root

__all__ = ["Emulator", "free_port", "require_gcp", "require_sdk", "sdk_root"]

GCP_MODULES = ("google.cloud.firestore", "google.cloud.pubsub_v1", "functions_framework")


def _unavailable(kind: str, problem: str) -> None:
    """Skip with the reason; under CI=true a missing part is a failure, never a skip."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{kind} cannot run: {problem} (CI=true: this is a failure)")
    pytest.skip(f"{kind} skipped: {problem}")


def require_gcp() -> None:
    """The Google Cloud clients and functions-framework (the `gcp` extra), or skip."""
    missing = [name for name in GCP_MODULES if _find(name) is None]
    if missing:
        _unavailable("tests of the runtime", f"{', '.join(missing)} not installed; install "
                     "the gcp extra: pip install -e '.[dev,gcp]'")


def _find(name: str) -> object | None:
    try:
        return importlib.util.find_spec(name)
    except ModuleNotFoundError:
        return None


def require_sdk() -> Path:
    """The Cloud SDK root and the client libraries, or skip (fail under CI=true)."""
    require_gcp()
    problem = sdk_problem()
    if problem:
        _unavailable("emulator tests", problem)
    root = sdk_root()
    assert root is not None
    return root
