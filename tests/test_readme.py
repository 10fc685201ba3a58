"""The README's quick start shows what the command really prints."""

from __future__ import annotations

import re

from tests.conftest import REPO, run_phasegate

README = (REPO / "README.md").read_text(encoding="utf-8")


def _session(command: str) -> tuple[list[str], int]:
    """The lines shown after ``$ command`` up to the echoed exit code."""
    block = README.split(f"$ {command}\n", 1)[1]
    shown, rest = block.split("$ echo $?\n", 1)
    return shown.splitlines(), int(rest.split("\n", 1)[0])


def test_quick_start_clean_run():
    lines, code = _session("phasegate validate")
    result = run_phasegate("validate")
    assert result.returncode == code == 0
    assert (result.stdout + result.stderr).splitlines() == lines


def test_quick_start_failing_example():
    lines, code = _session("phasegate validate --root examples/disabled-still-expected")
    result = run_phasegate("validate", "--root", "examples/disabled-still-expected")
    assert result.returncode == code == 1
    assert result.stdout.splitlines() == lines[:1]
    assert result.stderr.splitlines() == lines[1:]


def test_readme_names_install_and_test_commands_that_ci_runs():
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    install = re.search(r"## Install\n\n```\n(.+)\n```", README).group(1)
    test = re.search(r"## Test\n\n```\n(.+)\n```", README).group(1)
    assert test in ci.splitlines()[-1]  # the last line runs exactly the README's command
    script = (REPO / "scripts" / "test").read_text(encoding="utf-8")
    assert install in script  # the test command installs what the tests need
