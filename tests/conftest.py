"""Shared helpers: run the real command line, and check registry text."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from phasegate.registry.loading import load_registry_text
from phasegate.validator.check import check_loaded
from phasegate.validator.findings import Finding

REPO = Path(__file__).resolve().parent.parent
REFERENCE_REGISTRY = REPO / "registry" / "processors.yaml"


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def run_phasegate(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
                  timeout: float = 60) -> Result:
    """Run the installed command line as a user would, in a subprocess."""
    full_env = {k: v for k, v in os.environ.items() if k != "PHASEGATE_REGISTRY"}
    full_env.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "phasegate", *args],
        cwd=cwd or REPO, env=full_env, capture_output=True, text=True, timeout=timeout,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def findings_for(text: str) -> list[Finding]:
    """Findings for registry text (dedented), as the validator reports them."""
    return check_loaded(load_registry_text(textwrap.dedent(text).lstrip("\n"), "r.yaml"))


def codes_at(text: str) -> list[tuple[str, int, int]]:
    """(code, line, column) of every finding, the shape most rule tests assert."""
    return [(f.rule, f.line, f.column) for f in findings_for(text)]


@pytest.fixture
def repo_dir(tmp_path: Path):
    """A temporary repository root with a registry/ folder, and a writer for it."""
    (tmp_path / "registry").mkdir()

    def write(text: str | bytes) -> Path:
        path = tmp_path / "registry" / "processors.yaml"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    write.root = tmp_path  # type: ignore[attr-defined]
    return write


@pytest.fixture(scope="session")
def emulators(tmp_path_factory):
    """Both emulators for the session (the same context manager as `phasegate test`)."""
    from phasegate.scenario.emulators import EmulatorsUnavailable, running_emulators
    from tests.emulators import require_sdk

    require_sdk()
    logs = tmp_path_factory.mktemp("emulator-logs")
    try:
        with running_emulators(logs) as hosts:
            yield hosts
    except EmulatorsUnavailable as error:
        pytest.fail(f"the emulators did not start: {error}")


@pytest.fixture
def project_id(emulators) -> str:
    """A fresh project per test: the emulators keep projects apart, so no reset is needed."""
    import uuid

    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def bigquery(tmp_path_factory):
    """bqemulator on a free loopback port for the session (skipped with the reason when it
    cannot run; a failure under CI=true). Its ``client()`` uses anonymous credentials."""
    from tests.bq_emulator import start_bqemulator

    emulator = start_bqemulator(tmp_path_factory.mktemp("bqemulator-logs"))
    try:
        yield emulator
    finally:
        emulator.stop()
