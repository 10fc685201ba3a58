"""`phasegate init`: scaffolds what is missing, never overwrites, never writes outside DIR.

Tests about the artifacts themselves run the real generation (and skip while
``phasegate.generation`` cannot be imported); tests about the scaffold replace
generation with a recorder so they say exactly what init decides.
"""

from __future__ import annotations

import importlib
import io
import os
from importlib import resources
from pathlib import Path

import pytest

from phasegate import __version__
from phasegate.registry.loading import load_registry_text
from phasegate.scaffold import command, init_command
from phasegate.validator.check import check_loaded
from tests.conftest import Result, run_phasegate

SCAFFOLD = [
    "registry/processors.yaml",
    "registry/schema.json",
    "orchestrator/main.py",
    "canary/main.py",
    "validator/README.md",
    "validator/baseline.json",
]
TOP_LEVEL = [".pre-commit-config.yaml", ".github/workflows/phasegate.yml"]
ARTIFACTS = [
    "orchestrator/expected_processors.py",
    "orchestrator/requirements.txt",
    "canary/expected.json",
    "canary/requirements.txt",
    "deploy/plan.sh",
    "deploy/canary-scheduler.json",
    "deploy/canary-monitoring.json",
]
ORCHESTRATOR_MAIN = '''\
"""This pipeline's orchestrator: Cloud Function entry points bound to the generated expectations.

One deployment serves one transition, named by PHASEGATE_TRANSITION: `phasegate deploy plan`
sets it; set it yourself to run this locally with functions-framework.
"""
from pathlib import Path

from phasegate.orchestrator import function_handlers

on_completion, on_push = function_handlers(Path(__file__).with_name("expected_processors.py"))
'''
CANARY_MAIN = '''\
"""This pipeline's canary: the Cloud Scheduler entry point bound to the generated expectations."""
from pathlib import Path

from phasegate.canary import function_handler

canary_http = function_handler(Path(__file__).with_name("expected.json"))
'''


def init(directory: Path, *, pipeline: str | None = None, prefix: str | None = None,
         ) -> Result:
    out, err = io.StringIO(), io.StringIO()
    code = init_command(directory, pipeline=pipeline, prefix=prefix, out=out, err=err)
    return Result(code, out.getvalue(), err.getvalue())


def cli_init(*args: str) -> Result:
    """The real command line; skips while `init` is not wired into it yet."""
    result = run_phasegate("init", *args)
    if "invalid choice: 'init'" in result.stderr:
        pytest.skip("the init subcommand is not wired into phasegate.cli yet")
    return result


@pytest.fixture
def generation() -> None:
    """Real generation, for tests that need the artifacts themselves."""
    try:  # the deploy-plan format is rendered by phasegate.deploy.plan
        for module in ("phasegate.generation", "phasegate.deploy.plan"):
            importlib.import_module(module)
    except ImportError:
        pytest.skip("phasegate.generation not available yet")


@pytest.fixture
def generated(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Path, str]]:
    """Generation replaced by a recorder of (root, registry) that succeeds."""
    calls: list[tuple[Path, str]] = []

    def record(root: Path, registry: object, out: object, err: object) -> int:
        calls.append((root, str(registry)))
        return 0

    monkeypatch.setattr(command, "_generate", record)
    return calls


def snapshot(root: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every path under root with its content (files) and modification time."""
    state: dict[str, tuple[bytes | None, int]] = {}
    for path in sorted(root.rglob("*")):
        stat = path.lstat()
        content = path.read_bytes() if path.is_file() and not path.is_symlink() else None
        state[path.relative_to(root).as_posix()] = (content, stat.st_mtime_ns)
    return state


def registry_findings(root: Path, registry: str = "registry/processors.yaml") -> list[str]:
    text = (root / registry).read_text(encoding="utf-8")
    return [f"{f.rule} {f.message}" for f in check_loaded(load_registry_text(text, registry))]


# --- a fresh directory ------------------------------------------------------------------------


def test_fresh_directory_gets_every_file_and_a_registry_that_validates_strictly(
        tmp_path: Path, generation: None) -> None:
    target = tmp_path / "new" / "Stats Pipeline"
    result = init(target)
    assert result.returncode == 0, result.stderr
    created = [line.removeprefix("created ") for line in result.stdout.splitlines()
               if line.startswith("created ")]
    assert created == SCAFFOLD + TOP_LEVEL + ARTIFACTS
    for path in SCAFFOLD + TOP_LEVEL + ARTIFACTS:
        assert (target / path).is_file(), path
    assert (target / "orchestrator/main.py").read_text() == ORCHESTRATOR_MAIN
    assert (target / "canary/main.py").read_text() == CANARY_MAIN
    schema = resources.files("phasegate.registry").joinpath("schema.json").read_text()
    assert (target / "registry/schema.json").read_text() == schema
    registry = (target / "registry/processors.yaml").read_text()
    assert registry.startswith("# yaml-language-server: $schema=schema.json\n")
    assert "\npipeline: stats-pipeline\n" in registry

    validated = run_phasegate("validate", "--strict", "--root", str(target))
    assert validated.returncode == 0, validated.stdout + validated.stderr
    checked = run_phasegate("generate", "--check", "--root", str(target))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # what CI runs, from the repository root
    in_ci = run_phasegate("validate", "--strict", cwd=target)
    assert in_ci.returncode == 0, in_ci.stdout + in_ci.stderr


def test_command_line_init_scaffolds_a_fresh_directory(tmp_path: Path, generation: None) -> None:
    target = tmp_path / "repo"
    result = cli_init(str(target), "--pipeline", "nba-stats")
    assert result.returncode == 0, result.stderr
    assert "created registry/processors.yaml" in result.stdout.splitlines()
    assert "\npipeline: nba-stats\n" in (target / "registry/processors.yaml").read_text()
    validated = run_phasegate("validate", "--strict", "--root", str(target))
    assert validated.returncode == 0, validated.stdout + validated.stderr


def test_command_line_init_refuses_bad_input_without_a_traceback(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    result = cli_init(str(not_a_dir))
    assert result.returncode == 2
    assert result.stderr.startswith("phasegate: error: ")
    assert "Traceback" not in result.stderr
    result = cli_init(str(tmp_path / "repo"), "--prefix", "../x")
    assert result.returncode == 2
    assert "phasegate: error: --prefix '../x'" in result.stderr
    assert not (tmp_path / "repo").exists() and not (tmp_path / "x").exists()


def test_the_starter_registry_is_clean_on_its_own(tmp_path: Path,
                                                  generated: list[tuple[Path, str]]) -> None:
    result = init(tmp_path)
    assert result.returncode == 0, result.stderr
    assert registry_findings(tmp_path) == []
    text = (tmp_path / "registry/processors.yaml").read_text()
    for taught in ("version: 1", "timezone: UTC", "disabled_reason:", "per_run_key: false",
                   "phase2_to_phase3:", "action: monitor", "collection: phase2_completion",
                   "expects: all", "deadline_minutes:", "grace_minutes:",
                   "#   action: trigger", "canary:", "schedule:", "lookback_days:",
                   "renotify_hours:", "- log: {}", "# - slack: {url_env: SLACK_WEBHOOK_URL}",
                   "# deploy:", "format: deploy-plan", "format: cloud-scheduler",
                   "format: canary-monitoring", "format: requirements"):
        assert taught in text, taught
    assert generated == [(tmp_path.resolve(), "registry/processors.yaml")]


# --- never overwrite ----------------------------------------------------------------------------


def test_a_second_run_changes_nothing_and_lists_what_it_kept(tmp_path: Path,
                                                             generation: None) -> None:
    assert init(tmp_path).returncode == 0
    for path in tmp_path.rglob("*"):  # an old time: any rewrite would move it
        if path.is_file():
            os.utime(path, (1_000_000_000, 1_000_000_000))
    before = snapshot(tmp_path)
    again = init(tmp_path)
    assert again.returncode == 0, again.stderr
    assert snapshot(tmp_path) == before
    assert again.stdout.splitlines() == [f"kept {path} (exists)" for path in SCAFFOLD + TOP_LEVEL]


def test_an_existing_registry_is_kept_and_never_regenerated(
        tmp_path: Path, generated: list[tuple[Path, str]]) -> None:
    (tmp_path / "registry").mkdir()
    (tmp_path / "registry/processors.yaml").write_text("mine: true\n")
    result = init(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "registry/processors.yaml").read_text() == "mine: true\n"
    assert "kept registry/processors.yaml (exists)" in result.stdout.splitlines()
    assert "created registry/schema.json" in result.stdout.splitlines()
    assert generated == []


def test_existing_pre_commit_config_is_untouched_and_the_hooks_are_printed(
        tmp_path: Path, generated: list[tuple[Path, str]]) -> None:
    mine = "repos:\n  - repo: https://github.com/astral-sh/ruff-pre-commit\n    rev: v0.4.4\n"
    (tmp_path / ".pre-commit-config.yaml").write_text(mine)
    result = init(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / ".pre-commit-config.yaml").read_text() == mine
    lines = result.stdout.splitlines()
    start = lines.index("kept .pre-commit-config.yaml (exists); add under its `repos:`:")
    assert lines[start + 1:start + 6] == [
        "  - repo: https://github.com/phasegate/phasegate",
        f"    rev: v{__version__}",
        "    hooks:",
        "      - id: phasegate-validate",
        "        args: [--baseline, validator/baseline.json]",
    ]
    assert lines[start + 6] == "      - id: phasegate-generate-check"
    assert "created .github/workflows/phasegate.yml" in lines


def test_existing_workflow_is_untouched_and_the_steps_are_printed(
        tmp_path: Path, generated: list[tuple[Path, str]]) -> None:
    workflow = tmp_path / ".github/workflows/phasegate.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text("name: mine\n")
    result = init(tmp_path)
    assert result.returncode == 0, result.stderr
    assert workflow.read_text() == "name: mine\n"
    assert "          phasegate validate --format github" in result.stdout.splitlines()
    assert "          --baseline validator/baseline.json" in result.stdout.splitlines()
    assert "        run: phasegate generate --check" in result.stdout.splitlines()
    assert f"after installing phasegate {__version__}" in result.stdout


def test_generation_failing_makes_init_fail_with_its_code(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(command, "_generate", lambda *args: 1)
    result = init(tmp_path)
    assert result.returncode == 1
    assert (tmp_path / "registry/processors.yaml").is_file()


def test_existing_artifacts_are_not_overwritten_by_generation(
        tmp_path: Path, generated: list[tuple[Path, str]]) -> None:
    (tmp_path / "canary").mkdir()
    (tmp_path / "canary/expected.json").write_text("{}\n")
    result = init(tmp_path)
    assert result.returncode == 0
    assert generated == []
    assert "would overwrite canary/expected.json" in result.stderr
    assert (tmp_path / "canary/expected.json").read_text() == "{}\n"


# --- DIR and --prefix ---------------------------------------------------------------------------


def test_dir_that_is_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("keep me")
    result = init(target)
    assert result.returncode == 2
    assert result.stderr == f"phasegate: error: {target}: exists and is not a directory\n"
    assert target.read_text() == "keep me"


def test_prefix_puts_the_folders_under_path_and_the_hooks_pass_registry(
        tmp_path: Path, generated: list[tuple[Path, str]]) -> None:
    result = init(tmp_path, prefix="infra/phasegate")
    assert result.returncode == 0, result.stderr
    for path in SCAFFOLD:
        assert (tmp_path / "infra/phasegate" / path).is_file(), path
        assert not (tmp_path / path).exists()
    for path in TOP_LEVEL:
        assert (tmp_path / path).is_file(), path
    registry = "infra/phasegate/registry/processors.yaml"
    hooks = (tmp_path / ".pre-commit-config.yaml").read_text()
    assert hooks.count(f"        args: [--registry, {registry}]\n") == 1  # generate --check
    assert (f"        args: [--registry, {registry}, --baseline, "
            "infra/phasegate/validator/baseline.json]\n") in hooks
    workflow = (tmp_path / ".github/workflows/phasegate.yml").read_text()
    assert (f"phasegate validate --format github --registry {registry}\n"
            "          --baseline infra/phasegate/validator/baseline.json\n") in workflow
    assert f"run: phasegate generate --check --registry {registry}\n" in workflow
    text = (tmp_path / registry).read_text()
    for artifact in ARTIFACTS:
        assert f"{{path: infra/phasegate/{artifact}, format:" in text
    assert registry_findings(tmp_path, registry) == []
    assert generated == [(tmp_path.resolve(), registry)]


def test_prefixed_scaffold_validates_as_ci_runs_it(tmp_path: Path, generation: None) -> None:
    result = init(tmp_path, prefix="infra")
    assert result.returncode == 0, result.stderr
    for artifact in ARTIFACTS:
        assert (tmp_path / "infra" / artifact).is_file(), artifact
    registry = "infra/registry/processors.yaml"
    for args in (("validate", "--strict"), ("generate", "--check")):
        done = run_phasegate(*args, "--registry", registry, cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(("prefix", "says"), [
    ("../x", "must stay inside DIR"),
    ("a/../../x", "must stay inside DIR"),
    ("..", "must stay inside DIR"),
    ("/tmp/elsewhere", "must be a relative path inside DIR"),
    (".", "names DIR itself"),
    ("", "names DIR itself"),
    ("-x", "is not a plain folder name"),
    ("a b", "is not a plain folder name"),
    ("a\\..\\b", "is not a plain folder name"),
])
def test_a_prefix_that_could_leave_dir_is_refused(tmp_path: Path, prefix: str, says: str) -> None:
    target = tmp_path / "repo"
    result = init(target, prefix=prefix)
    assert result.returncode == 2
    assert result.stderr.startswith(f"phasegate: error: --prefix {prefix!r}")
    assert says in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# --- symlinks -----------------------------------------------------------------------------------


def test_a_symlinked_folder_pointing_outside_is_refused(
        tmp_path: Path, generated: list[tuple[Path, str]]) -> None:
    outside, repo = tmp_path / "outside", tmp_path / "repo"
    outside.mkdir()
    repo.mkdir()
    (repo / "registry").symlink_to(outside, target_is_directory=True)
    result = init(repo)
    assert result.returncode == 2
    assert "phasegate: error: registry/processors.yaml: resolves to" in result.stderr
    assert list(outside.iterdir()) == []
    assert sorted(p.name for p in repo.iterdir()) == ["registry"]  # nothing written at all
    assert generated == []


def test_an_artifact_folder_pointing_outside_is_refused(
        tmp_path: Path, generated: list[tuple[Path, str]]) -> None:
    outside, repo = tmp_path / "outside", tmp_path / "repo"
    outside.mkdir()
    repo.mkdir()
    (repo / "deploy").symlink_to(outside, target_is_directory=True)
    result = init(repo)
    assert result.returncode == 2
    assert "deploy/plan.sh: resolves to" in result.stderr
    assert list(outside.iterdir()) == []
    assert generated == []


def test_a_symlinked_file_is_kept_and_never_followed_out(
        tmp_path: Path, generated: list[tuple[Path, str]]) -> None:
    outside, repo = tmp_path / "outside", tmp_path / "repo"
    outside.mkdir()
    repo.mkdir()
    (repo / ".pre-commit-config.yaml").symlink_to(outside / "hooks.yaml")  # dangling
    result = init(repo)
    assert result.returncode == 0, result.stderr
    assert not (outside / "hooks.yaml").exists()
    assert "kept .pre-commit-config.yaml (exists); add under its `repos:`:" in result.stdout


def test_a_symlink_inside_dir_is_fine(tmp_path: Path,
                                      generated: list[tuple[Path, str]]) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "registry").symlink_to(tmp_path / "config", target_is_directory=True)
    result = init(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "config/processors.yaml").is_file()


def test_a_file_where_a_folder_belongs_is_refused(tmp_path: Path) -> None:
    (tmp_path / "canary").write_text("a file")
    result = init(tmp_path)
    assert result.returncode == 2
    assert "phasegate: error: canary: exists and is not a directory" in result.stderr
    assert not (tmp_path / "registry").exists()


# --- pipeline names -----------------------------------------------------------------------------


@pytest.mark.parametrize(("folder", "name"), [
    ("My Repo!", "my-repo"),
    ("NBA_stats.v2", "nba-stats-v2"),
    ("2024 season", "pipeline-2024-season"),
    ("___", "pipeline"),
])
def test_the_default_pipeline_name_is_dir_sanitized(
        tmp_path: Path, generated: list[tuple[Path, str]], folder: str, name: str) -> None:
    result = init(tmp_path / folder)
    assert result.returncode == 0, result.stderr
    assert f"\npipeline: {name}\n" in (tmp_path / folder / "registry/processors.yaml").read_text()
    assert registry_findings(tmp_path / folder) == []


@pytest.mark.parametrize("name", ["NBA Stats", "nba_stats", "-x", "2024", "", "naïve", "a--b"])
def test_an_odd_pipeline_name_is_refused_clearly(tmp_path: Path, name: str) -> None:
    result = init(tmp_path, pipeline=name)
    assert result.returncode == 2
    assert result.stderr.startswith(f"phasegate: error: --pipeline {name!r}: a pipeline name is "
                                    "lowercase letters, digits and '-'")
    assert os.listdir(tmp_path) == []


def test_a_pipeline_named_like_a_yaml_boolean_stays_a_string(
        tmp_path: Path, generated: list[tuple[Path, str]]) -> None:
    result = init(tmp_path, pipeline="yes")
    assert result.returncode == 0, result.stderr
    assert '\npipeline: "yes"\n' in (tmp_path / "registry/processors.yaml").read_text()
    assert registry_findings(tmp_path) == []


# --- the Action in validator/README.md; a setup that is already there --------------------------


def test_the_prefixed_validator_readme_passes_the_registry_to_the_action(
        tmp_path: Path, generated: list[tuple[Path, str]]) -> None:
    import yaml

    assert init(tmp_path, prefix="infra/phasegate").returncode == 0
    readme = (tmp_path / "infra/phasegate/validator/README.md").read_text()
    block = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    [_, action] = yaml.safe_load(block)["steps"]
    assert action["with"] == {"registry": "infra/phasegate/registry/processors.yaml"}
    inputs = yaml.safe_load((Path(__file__).parent.parent / "validator/action.yml").read_text())[
        "inputs"]
    assert set(action["with"]) <= set(inputs)  # only inputs the Action has (no baseline)


def test_the_unprefixed_validator_readme_needs_no_inputs(
        tmp_path: Path, generated: list[tuple[Path, str]]) -> None:
    import yaml

    assert init(tmp_path).returncode == 0
    readme = (tmp_path / "validator/README.md").read_text()
    block = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert "with" not in yaml.safe_load(block)["steps"][1]


def test_init_under_another_prefix_warns_about_the_existing_setup(
        tmp_path: Path, generated: list[tuple[Path, str]]) -> None:
    assert init(tmp_path, prefix="infra/phasegate").returncode == 0
    again = init(tmp_path, prefix="ops")
    assert again.returncode == 0
    warnings = [line for line in again.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, again.stderr  # the hooks and the file: one setup, one warning
    assert "infra/phasegate/registry/processors.yaml" in warnings[0]
    assert "--prefix infra/phasegate" in warnings[0]
    back = init(tmp_path, prefix="infra/phasegate")  # itself is no other setup; ops is now
    assert "--prefix infra/phasegate" not in back.stderr and "--prefix ops" in back.stderr


def test_init_warns_about_a_pre_commit_config_whose_hooks_name_another_registry(
        tmp_path: Path, generated: list[tuple[Path, str]]) -> None:
    (tmp_path / ".pre-commit-config.yaml").write_text(
        "repos:\n  - repo: https://github.com/phasegate/phasegate\n    rev: v0.1.0\n"
        "    hooks:\n      - id: phasegate-validate\n"
        "        args: [--registry, tools/pg/registry/processors.yaml]\n")
    result = init(tmp_path)
    assert result.returncode == 0
    assert ("phasegate: warning: another phasegate setup is already here (the phasegate hooks "
            "in .pre-commit-config.yaml validate tools/pg/registry/processors.yaml)"
            ) in result.stderr
