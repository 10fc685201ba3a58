"""What other repositories adopt: the pre-commit hook, the workflow and the action."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

BIN = Path(sys.executable).parent


MODULES = {"pre-commit": "pre_commit", "check-jsonschema": "check_jsonschema"}


def _tool(name: str) -> tuple[str, ...]:
    """A tool of the dev extra run by this interpreter (``python -m``: a venv that sees the
    tools through system site-packages has no script of them on its PATH), else the PATH's."""
    import importlib.util

    module = MODULES.get(name)
    if module is not None and importlib.util.find_spec(module) is not None:
        return (sys.executable, "-m", module)
    found = shutil.which(name, path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        pytest.fail(f"{name} is not installed: install the dev extra (pip install -e '.[dev]')")
    return (found,)


def _run(*args: str, cwd: Path = REPO, env: dict[str, str] | None = None, timeout: int = 120,
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


IDENTITY = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


def _commit_all(directory: Path) -> None:
    """Make ``directory`` a git repository with everything in it committed."""
    for args in (("init", "-q"), ("add", "-A"), ("commit", "-qm", "snapshot")):
        done = _run(*_tool("git"), *args, cwd=directory, env=IDENTITY)
        assert done.returncode == 0, done.stderr


def _snapshot_of_this_checkout(tmp_path: Path) -> Path:
    """pre-commit clones hook repositories: a committed copy of this working tree
    (untracked files too) keeps the test independent of the checkout's git state."""
    hook_repo = tmp_path / "phasegate"
    shutil.copytree(REPO, hook_repo, ignore=shutil.ignore_patterns(
        ".git", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis", "build", ".venv"))
    _commit_all(hook_repo)
    return hook_repo


@pytest.mark.parametrize("schema,path", [
    ("vendor.github-workflows", ".github/workflows/ci.yml"),
    ("vendor.github-actions", "validator/action.yml"),
])
def test_github_files_match_their_schemas_offline(schema, path):
    done = _run(*_tool("check-jsonschema"), "--builtin-schema", schema, path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_pre_commit_manifest_and_config_are_valid():
    pre_commit = _tool("pre-commit")
    manifest = _run(*pre_commit, "validate-manifest", ".pre-commit-hooks.yaml")
    config = _run(*pre_commit, "validate-config", ".pre-commit-config.yaml")
    assert manifest.returncode == 0, manifest.stdout + manifest.stderr
    assert config.returncode == 0, config.stdout + config.stderr


def test_workflow_and_own_hooks_run_validate_and_generate_check():
    workflow = (REPO / ".github/workflows/ci.yml").read_text()
    own = (REPO / ".pre-commit-config.yaml").read_text()
    published = (REPO / ".pre-commit-hooks.yaml").read_text()
    assert "phasegate validate --format github" in workflow
    assert "phasegate generate --check" in workflow
    assert "entry: phasegate generate --check" in own
    assert "id: phasegate-generate-check" in published


@pytest.mark.slow
def test_pre_commit_try_repo_fails_on_a_drifted_registry(tmp_path: Path):
    """The published hook, installed by pre-commit from this checkout, blocks drift."""
    project = tmp_path / "pipeline"
    (project / "registry").mkdir(parents=True)
    drifted = REPO / "examples" / "disabled-still-expected" / "registry" / "processors.yaml"
    shutil.copy(drifted, project / "registry" / "processors.yaml")
    _commit_all(project)
    hook_repo = _snapshot_of_this_checkout(tmp_path)
    env = {"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), **IDENTITY}
    failed = _run(*_tool("pre-commit"), "try-repo", str(hook_repo), "phasegate-validate",
                  "--all-files", cwd=project, env=env, timeout=600)
    output = failed.stdout + failed.stderr
    assert failed.returncode == 1, output
    assert "PG102" in output and "p2_bdl_box_scores" in output

    fixed = "".join(line for line in drifted.read_text().splitlines(keepends=True)
                    if not line.startswith("      - p2_bdl_box_scores"))
    (project / "registry" / "processors.yaml").write_text(fixed)
    passed = _run(*_tool("pre-commit"), "try-repo", str(hook_repo), "phasegate-validate",
                  "--all-files", cwd=project, env=env, timeout=600)
    assert passed.returncode == 0, passed.stdout + passed.stderr


@pytest.mark.slow
def test_pre_commit_generate_check_hook_fails_on_a_stale_artifact(tmp_path: Path):
    """The second published hook, from a snapshot of this checkout, blocks stale artifacts."""
    project = tmp_path / "pipeline"
    shutil.copytree(REPO / "tests" / "fixtures" / "drifted-repo", project)
    _commit_all(project)
    hook_repo = _snapshot_of_this_checkout(tmp_path)
    env = {"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), **IDENTITY}
    stale = _run(*_tool("pre-commit"), "try-repo", str(hook_repo), "phasegate-generate-check",
                 "--all-files", cwd=project, env=env, timeout=600)
    assert stale.returncode == 1, stale.stdout + stale.stderr
    assert "orchestrator/expected_processors.py is stale" in stale.stdout


def test_the_scaffolded_workflow_and_hooks_are_valid(tmp_path):
    done = _run(sys.executable, "-m", "phasegate", "init", str(tmp_path), "--pipeline", "acme",
                "--prefix", "ops/pg")
    assert done.returncode == 0, done.stdout + done.stderr
    workflow = _run(*_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                    str(tmp_path / ".github/workflows/phasegate.yml"))
    assert workflow.returncode == 0, workflow.stdout + workflow.stderr
    config = _run(*_tool("pre-commit"), "validate-config",
                  str(tmp_path / ".pre-commit-config.yaml"))
    assert config.returncode == 0, config.stdout + config.stderr
