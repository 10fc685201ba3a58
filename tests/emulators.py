"""Emulator fixtures' helpers: the package's emulators, and skip-or-fail when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from phasegate.scenario.emulators import Emulator, free_port, sdk_problem, sdk_root

__all__ = ["Emulator", "free_port", "require_sdk", "sdk_root"]


def require_sdk() -> Path:
    """The Cloud SDK root, or skip (fail under CI=true) with the reason."""
    problem = sdk_problem()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"emulator tests cannot run: {problem} (CI=true: this is a failure)")
        pytest.skip(f"emulator tests skipped: {problem}")
    root = sdk_root()
    assert root is not None
    return root
