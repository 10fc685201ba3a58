"""The real command line on real files: exit codes, formats, bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import REPO, run_phasegate

EXAMPLE = REPO / "examples" / "disabled-still-expected"
MINIMAL = """\
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_a: {phase: 2}
"""


def test_reference_registry_validates_clean():
    result = run_phasegate("validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert "no problems found" in result.stderr


def test_example_fails_with_pg102_in_text():
    result = run_phasegate("validate", "--root", str(EXAMPLE))
    assert result.returncode == 1
    [line] = result.stdout.splitlines()
    assert line.startswith(
        "registry/processors.yaml:112:9: error PG102 [disabled-but-expected] "
        "transition phase2_to_phase3 expects lists p2_bdl_box_scores")
    assert "Ball Don't Lie API retired, since 2026-02-07" in line


def test_example_fails_with_pg102_in_json():
    result = run_phasegate("validate", "--root", str(EXAMPLE), "--format", "json")
    assert result.returncode == 1
    document = json.loads(result.stdout)
    [finding] = document["findings"]
    assert set(finding) == {"rule", "name", "severity", "path", "line", "column", "message",
                            "subject"}
    assert (finding["rule"], finding["line"], finding["column"], finding["subject"]) == (
        "PG102", 112, 9, "p2_bdl_box_scores")
    assert document["summary"] == {"errors": 1, "warnings": 0}


def test_example_fails_with_pg102_in_github():
    result = run_phasegate("validate", "--root", str(EXAMPLE), "--format", "github")
    assert result.returncode == 1
    [line] = result.stdout.splitlines()
    assert line.startswith(
        "::error file=registry/processors.yaml,line=112,col=9,"
        "title=PG102 disabled-but-expected::transition phase2_to_phase3")


def test_example_fails_with_pg102_in_sarif():
    result = run_phasegate("validate", "--root", str(EXAMPLE), "--format", "sarif")
    assert result.returncode == 1
    [run] = json.loads(result.stdout)["runs"]
    [found] = run["results"]
    assert found["ruleId"] == "PG102"
    region = found["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (112, 9)


def test_warnings_pass_unless_strict(repo_dir):
    repo_dir(MINIMAL + "  p2_b: {phase: 2, enabled: false}\n")
    root = str(repo_dir.root)
    relaxed = run_phasegate("validate", "--root", root)
    strict = run_phasegate("validate", "--root", root, "--strict")
    assert relaxed.returncode == 0 and "PG109" in relaxed.stdout
    assert strict.returncode == 1 and "PG109" in strict.stdout


def test_registry_from_environment(tmp_path):
    path = tmp_path / "elsewhere.yaml"
    path.write_text(MINIMAL + "  p2_b: {phase: 2, inputs: [nope]}\n", encoding="utf-8")
    result = run_phasegate("validate", "--root", str(tmp_path),
                           env={"PHASEGATE_REGISTRY": "elsewhere.yaml"})
    assert result.returncode == 1
    assert result.stdout.startswith("elsewhere.yaml:6:29: error PG101")


def test_registry_flag_wins_over_environment(tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    result = run_phasegate("validate", "--registry", str(path),
                           env={"PHASEGATE_REGISTRY": str(tmp_path / "missing.yaml")})
    assert result.returncode == 0, result.stderr


def _one_line_error(result, name: str) -> None:
    assert result.returncode == 2, result
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert name in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_registry_is_a_usage_error(tmp_path):
    _one_line_error(run_phasegate("validate", "--root", str(tmp_path)),
                    "registry/processors.yaml")


def test_directory_as_registry(tmp_path):
    _one_line_error(run_phasegate("validate", "--registry", str(tmp_path)), str(tmp_path))


def test_unreadable_registry(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root can read files without read permission")
    path = tmp_path / "secret.yaml"
    path.write_text(MINIMAL, encoding="utf-8")
    path.chmod(0)
    _one_line_error(run_phasegate("validate", "--registry", str(path)), "secret.yaml")


def test_root_that_is_not_a_directory(tmp_path):
    _one_line_error(run_phasegate("validate", "--root", str(tmp_path / "nope")), "--root")


@pytest.mark.parametrize("content,code,message", [
    (b"", "PG003", "found an empty file"),
    (b"- a\n- b\n", "PG003", "found a list"),
    (b"just text\n", "PG003", "found a string"),
    (b"version: 1\npipeline: \xff\n", "PG001", "not UTF-8"),
    (b"version: [1\n", "PG001", "does not parse"),
])
def test_bad_registry_content_is_one_finding_naming_the_file(repo_dir, content, code, message):
    repo_dir(content)
    result = run_phasegate("validate", "--root", str(repo_dir.root))
    assert result.returncode == 1
    [line] = result.stdout.splitlines()
    assert line.startswith("registry/processors.yaml:")
    assert f"error {code}" in line and message in line
    assert "Traceback" not in result.stderr


def test_unknown_format_is_a_usage_error():
    result = run_phasegate("validate", "--format", "xml")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_help_explains_commands_and_exit_codes():
    top = run_phasegate("--help")
    assert top.returncode == 0 and "validate" in top.stdout
    validate = run_phasegate("validate", "--help")
    assert validate.returncode == 0
    for words in ("--registry", "--root", "--format", "--strict", "exit codes", "sarif"):
        assert words in validate.stdout


def test_no_command_is_a_usage_error():
    assert run_phasegate().returncode == 2


def test_validate_does_not_import_google_cloud(tmp_path: Path):
    # A namespace-package .pth file may create empty 'google' and 'google.cloud'
    # modules at interpreter start; what matters is what validate itself imports.
    script = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "from phasegate.cli import main\n"
        "code = main(['validate'])\n"
        "loaded = sorted(m for m in set(sys.modules) - before if m.startswith('google'))\n"
        "print(code, loaded)\n"
    )
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert done.stdout.strip() == "0 []", done.stdout + done.stderr


def test_broken_symlink_as_registry(tmp_path):
    link = tmp_path / "dangling.yaml"
    link.symlink_to(tmp_path / "gone.yaml")
    _one_line_error(run_phasegate("validate", "--registry", str(link)), "dangling.yaml")
