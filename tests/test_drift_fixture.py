"""The acceptance fixture: one instance of each drift outside the registry, found exactly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, run_phasegate

FIXTURE = REPO / "tests" / "fixtures" / "drifted-repo"

EXPECTED = [
    "config/workflows.yaml:8:21: error PG203 [unknown-name]",
    "config/workflows.yaml:11:21: error PG204 [disabled-referenced]",
    "monitoring/check_phase2.py:3:19: error PG208 [drifted-copy]",
    "orchestrator/expected_processors.py:74:1: error PG201 [stale-generated]",
    "registry/processors.yaml:21:15: warning PG205 [alias-without-class]",
]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(FIXTURE, copy)
    return copy


def _places(stdout: str) -> list[str]:
    return [line.split("] ", 1)[0] + "]" for line in stdout.splitlines()]


def test_each_drift_is_found_at_its_place(repo):
    result = run_phasegate("validate", "--root", str(repo))
    assert result.returncode == 1, result.stderr
    assert _places(result.stdout) == EXPECTED
    assert "did you mean 'p2_nbacom_boxscores'" in result.stdout
    assert "did you mean 'NbacGamebookProcessor'" in result.stdout
    assert "Ball Don't Lie API retired" in result.stdout
    assert "edited by hand" in result.stdout


def _correct(repo: Path) -> None:
    registry = repo / "registry" / "processors.yaml"
    registry.write_text(registry.read_text().replace("NbacGambookProcessor",
                                                     "NbacGamebookProcessor"))
    workflows = repo / "config" / "workflows.yaml"
    text = workflows.read_text().replace("p2_nbacom_boxscore\n", "p2_nbacom_boxscores\n")
    text = text.split("  bdl_box_scores:")[0]
    workflows.write_text(text)
    (repo / "monitoring" / "check_phase2.py").write_text(
        '"""Reads the expected set from the generated module."""\n\n'
        "from orchestrator.expected_processors import EXPECTED_PROCESSORS\n\n"
        "EXPECTED_PHASE2 = EXPECTED_PROCESSORS['phase2_to_phase3']\n")
    assert run_phasegate("generate", "--root", str(repo)).returncode == 0


def test_corrected_copy_is_clean(repo):
    _correct(repo)
    result = run_phasegate("validate", "--root", str(repo), "--strict")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_each_fix_removes_exactly_its_finding(repo):
    registry = repo / "registry" / "processors.yaml"
    registry.write_text(registry.read_text().replace("NbacGambookProcessor",
                                                     "NbacGamebookProcessor"))
    result = run_phasegate("validate", "--root", str(repo))
    assert "PG205" not in result.stdout
    # PG201 stays, for a new reason: the registry's digest changed
    assert len(result.stdout.splitlines()) == len(EXPECTED) - 1
    assert "generated from another registry" in result.stdout


def test_syntax_error_is_reported_and_the_scan_continues(repo):
    (repo / "monitoring" / "broken.py").write_text("def oops(:\n    'p2_nbacom_gamebook_pdf'\n")
    result = run_phasegate("validate", "--root", str(repo))
    assert result.returncode == 1
    assert "monitoring/broken.py:1:10: error PG206 [unscannable-reference] cannot scan" in (
        result.stdout)
    assert "did you mean 'NbacGamebookProcessor'" in result.stdout  # processors/ was scanned
    assert "Traceback" not in result.stderr


def test_missing_reference_path_is_reported(repo):
    shutil.rmtree(repo / "monitoring")
    result = run_phasegate("validate", "--root", str(repo))
    assert "registry/processors.yaml:47:10: error PG206 [unscannable-reference] " \
           "references.code names 'monitoring'" in result.stdout


def test_select_matching_nothing_is_reported(repo):
    (repo / "config" / "workflows.yaml").write_text("jobs: {}\n")
    result = run_phasegate("validate", "--root", str(repo))
    assert "PG206" in result.stdout and "matches no value" in result.stdout


def test_suppression_with_reason_silences_one_rule_on_one_line(repo):
    script = repo / "monitoring" / "check_phase2.py"
    script.write_text(script.read_text().replace(
        "EXPECTED_PHASE2 = [",
        "EXPECTED_PHASE2 = [  # phasegate: ignore[PG208] legacy dashboard, removed in Q3"))
    result = run_phasegate("validate", "--root", str(repo))
    assert "PG208" not in result.stdout
    assert "PG207" not in result.stdout


def test_suppression_without_reason_or_unused_is_reported(repo):
    script = repo / "monitoring" / "check_phase2.py"
    text = script.read_text().replace("EXPECTED_PHASE2 = [",
                                      "EXPECTED_PHASE2 = [  # phasegate: ignore[PG208]")
    text = text.replace("def missing(", "def missing(  # phasegate: ignore[PG203] not needed\n")
    script.write_text(text)
    result = run_phasegate("validate", "--root", str(repo))
    assert "monitoring/check_phase2.py:3:19: error PG208" in result.stdout
    assert "monitoring/check_phase2.py:3:22: warning PG207 [unused-suppression] this " \
           "suppression has no reason" in result.stdout
    assert "ignore[PG203] suppresses nothing" in result.stdout


def test_generate_twice_changes_nothing(repo):
    assert run_phasegate("generate", "--root", str(repo)).returncode == 0
    module = repo / "orchestrator" / "expected_processors.py"
    first = module.read_bytes()
    second_run = run_phasegate("generate", "--root", str(repo))
    assert second_run.returncode == 0 and "up to date" in second_run.stderr
    assert module.read_bytes() == first
    assert run_phasegate("generate", "--root", str(repo), "--check").returncode == 0


def test_generate_after_registry_edit_changes_exactly_the_affected_lines(repo):
    assert run_phasegate("generate", "--root", str(repo)).returncode == 0
    module = repo / "orchestrator" / "expected_processors.py"
    before = module.read_text().splitlines()
    registry = repo / "registry" / "processors.yaml"
    registry.write_text(registry.read_text().replace("    expects: all\n",
                                                     "    expects: all\n    grace_minutes: 45\n"))
    check = run_phasegate("generate", "--root", str(repo), "--check")
    assert check.returncode == 1
    assert "-            'grace_minutes': 30," in check.stdout
    assert "+            'grace_minutes': 45," in check.stdout
    assert run_phasegate("generate", "--root", str(repo)).returncode == 0
    after = module.read_text().splitlines()
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    # the registry digest (header comment, constant and data), the content digest and the
    # one timing line; grace is the canary's business, so the transition digest stays
    assert len(changed) == 5, changed
    assert any("grace_minutes': 45" in b for _, b in changed)


def test_generate_check_reports_missing_artifact_with_diff(repo):
    (repo / "orchestrator" / "expected_processors.py").unlink()
    result = run_phasegate("generate", "--root", str(repo), "--check")
    assert result.returncode == 1
    assert result.stdout.startswith("--- /dev/null\n+++ b/orchestrator/expected_processors.py")
    assert "is missing" in result.stderr
    assert not (repo / "orchestrator" / "expected_processors.py").exists()
