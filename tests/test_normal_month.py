"""scenarios/normal_month.yaml is exactly what its generator writes (no emulator needed)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

GENERATOR = REPO / "scenarios" / "generate_normal_month.py"


def test_the_committed_month_is_the_generators_output():
    result = subprocess.run([sys.executable, str(GENERATOR), "--check"], capture_output=True,
                            text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_fails_when_the_file_differs(tmp_path, monkeypatch):
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate_normal_month", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    copy = tmp_path / "normal_month.yaml"
    copy.write_text(module.generate().replace("status: success", "status: failed", 1))
    monkeypatch.setattr(module, "OUTPUT", copy)
    assert module.main(["--check"]) == 1
    copy.write_text(module.generate())
    assert module.main(["--check"]) == 0
