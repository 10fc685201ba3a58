"""`phasegate deploy plan` and `deploy build` as a user runs them."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REPO, run_phasegate


def test_plan_prints_the_generated_script():
    result = run_phasegate("deploy", "plan")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (REPO / "deploy" / "plan.sh").read_text()


def test_plan_of_a_registry_with_errors_prints_findings_and_no_plan(repo_dir):
    repo_dir("version: 1\npipeline: x\ntimezone: UTC\nprocessors:\n  p2_a: {phase: two}\n")
    result = run_phasegate("deploy", "plan", "--root", str(repo_dir.root))
    assert result.returncode == 1
    assert result.stdout == ""  # `deploy plan | bash` runs nothing
    assert "PG003" in result.stderr and "no plan written" in result.stderr


def test_plan_flags_override_the_registry(tmp_path):
    result = run_phasegate("deploy", "plan", "--project", "acme-prod-123", "--region",
                           "europe-west3")
    assert result.returncode == 0, result.stderr
    assert "--project=acme-prod-123" in result.stdout and "europe-west3" in result.stdout
    assert "${PROJECT}" not in result.stdout


def test_build_of_a_prefixed_scaffold(tmp_path):
    repo = tmp_path / "repo"
    init = run_phasegate("init", str(repo), "--pipeline", "acme", "--prefix", "ops/phasegate")
    assert init.returncode == 0, init.stdout + init.stderr
    registry = "ops/phasegate/registry/processors.yaml"
    out = tmp_path / "build"
    result = run_phasegate("deploy", "build", str(out), "--root", str(repo),
                           "--registry", str(repo / registry))
    assert result.returncode == 0, result.stderr
    for folder, generated in (("orchestrator", "expected_processors.py"),
                              ("canary", "expected.json")):
        assert (out / folder / "main.py").read_text() == (
            repo / "ops" / "phasegate" / folder / "main.py").read_text()
        assert (out / folder / generated).is_file()
        assert (out / folder / "phasegate" / "runtime.py").is_file()  # vendored
        assert not Path(out / folder / "phasegate" / "registry" / "processors.yaml").exists()
