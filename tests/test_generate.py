"""Generated artifacts: deterministic, standard library only, and used by the runtime.

The repository's own artifacts are checked as they are (current, standard library only,
the same from another checkout); how the runtime reads generated expectations is checked
on the small test registry (tests/registries.py), rendered here, never the reference's.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import shutil
import sys

import pytest

from phasegate import __version__
from phasegate.generation import render_for_root
from phasegate.registry.generate import render_canary_monitoring, render_scheduler
from phasegate.registry.loading import load_registry
from phasegate.runtime import Expectations, ExpectationsError
from tests.conftest import REPO, run_phasegate
from tests.registries import (
    PIPELINE,
    SMALL,
    SMALL_EXPECTATIONS,
    SMALL_SOURCE,
    canary_document,
    orchestrator_module,
)

ORCHESTRATOR = Expectations.load(REPO / "orchestrator" / "expected_processors.py")


@pytest.fixture(scope="module")
def small_module(tmp_path_factory) -> Expectations:
    """The small test registry's generated orchestrator module, loaded as the function does."""
    path = tmp_path_factory.mktemp("orchestrator") / "expected_processors.py"
    path.write_text(orchestrator_module())
    return Expectations.load(path)

EASTERN = dt.timezone(dt.timedelta(hours=-5))


def test_repository_artifacts_are_current():
    result = run_phasegate("generate", "--check")
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_module_imports_only_the_standard_library():
    tree = ast.parse((REPO / "orchestrator" / "expected_processors.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported


def test_header_names_source_version_and_digest():
    module = (REPO / "orchestrator" / "expected_processors.py").read_text().splitlines()
    assert module[0].startswith(
        f"# Generated from registry/processors.yaml by phasegate {__version__}; do not")
    assert module[1] == f"# Registry digest: {ORCHESTRATOR.registry_digest}"
    document = json.loads((REPO / "canary" / "expected.json").read_text())
    assert document["_generated"].startswith("generated from registry/processors.yaml")
    assert document["registry_digest"] == ORCHESTRATOR.registry_digest
    assert document["phasegate_version"] == __version__
    requirements = (REPO / "orchestrator" / "requirements.txt").read_text().splitlines()
    assert requirements[-1] == f"phasegate[gcp]=={__version__}"


def test_pipeline_code_can_import_the_expected_sets():
    namespace: dict = {}
    exec(orchestrator_module(), namespace)
    expected = namespace["EXPECTED_PROCESSORS"]["phase2_to_phase3"]
    assert expected == frozenset(SMALL_EXPECTATIONS.transitions["phase2_to_phase3"]["expected"])
    assert "p2_retired" not in expected


def test_output_is_the_same_from_another_checkout_location(tmp_path):
    copy = tmp_path / "elsewhere" / "checkout"
    shutil.copytree(REPO / "registry", copy / "registry")
    registry = load_registry(copy / "registry" / "processors.yaml", "registry/processors.yaml")
    assert registry.registry is not None
    for artifact in render_for_root(registry.registry, "registry/processors.yaml", copy):
        current = (REPO / artifact.path).read_text()
        assert artifact.placed(current).text == current  # README.md: its marked region


def test_orchestrator_uses_generated_expectations_with_registry_timezone(small_module):
    # 03:00 UTC on Feb 10 is still Feb 9 in New York: the 9th is "today" there
    now = dt.datetime(2026, 2, 10, 3, 0, tzinfo=dt.UTC)
    today, expectation_for = small_module.today, small_module.expectation
    canonical_name = small_module.canonical_name
    assert today(now) == dt.date(2026, 2, 9)
    same_day = expectation_for("phase3_to_phase4", dt.date(2026, 2, 9), now)
    assert same_day.mode == "same_day"
    assert same_day.expected == {"game_context"}
    overnight = expectation_for("phase3_to_phase4", dt.date(2026, 2, 8), now)
    assert overnight.mode == "overnight"
    assert overnight.expected == {"game_summary", "team_summary", "game_context"}
    assert overnight.required == {"game_summary", "game_context"}
    tomorrow = expectation_for("phase3_to_phase4", dt.date(2026, 2, 10), now)
    assert tomorrow.mode == "tomorrow"
    phase2 = expectation_for("phase2_to_phase3", dt.date(2026, 2, 9), now)
    assert phase2.mode is None and "p2_retired" not in phase2.expected
    assert canonical_name("SheetProcessor") == "p2_sheet"
    assert canonical_name("SheetProcesor") is None


def test_naive_now_is_refused(small_module):
    with pytest.raises(ValueError, match="timezone-aware"):
        small_module.today(dt.datetime(2026, 2, 10, 3, 0))


def test_canary_reads_its_generated_json(tmp_path):
    generated = tmp_path / "canary" / "expected.json"
    generated.parent.mkdir()
    generated.write_text(json.dumps(canary_document()))
    data = Expectations.load(generated).data
    assert data["canary"]["schedule"] == "*/20 * * * *"
    assert data["transitions"]["phase2_to_phase3"]["collection"] == "phase2_completion"
    assert data["calendar"] == ["2026-02-09", "2026-11-01"]  # the calendar's run keys travel
    broken = tmp_path / "expected.json"
    broken.write_text("{")
    with pytest.raises(ExpectationsError, match=r"expected\.json is unreadable.*phasegate generate"):
        Expectations.load(broken)


@pytest.mark.parametrize("content, message", [
    (None, "is missing: run `phasegate generate`"),
    ("EXPECTATIONS = {'format': 2}\n", "lacks phasegate_version"),
    ("raise SystemError('half written')\n", "does not import (SystemError: half written)"),
    ("X = 1\n", "not generated expectations"),
])
def test_a_broken_generated_module_names_its_file(tmp_path, content, message):
    path = tmp_path / "expected_processors.py"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ExpectationsError) as raised:
        Expectations.load(path)
    assert message in str(raised.value) and str(path) in str(raised.value)


def test_a_module_of_another_format_says_which_phasegate_wrote_it(tmp_path):
    text = orchestrator_module()
    path = tmp_path / "expected_processors.py"
    path.write_text(text.replace("'format': 2,", "'format': 99,")
                    .replace(f"'phasegate_version': '{__version__}'", "'phasegate_version': '9.0.0'"))
    with pytest.raises(ExpectationsError, match="generated by phasegate 9.0.0"):
        Expectations.load(path)


def test_generate_refuses_an_invalid_registry(repo_dir):
    repo_dir("version: 1\npipeline: x\ntimezone: UTC\nprocessors:\n  p2_a: {phase: two}\n")
    result = run_phasegate("generate", "--root", str(repo_dir.root))
    assert result.returncode == 1
    assert "PG003" in result.stdout and "nothing generated" in result.stderr


def test_scheduler_job_and_heartbeat_policy_follow_the_registry():
    job = json.loads(render_scheduler(SMALL, SMALL_SOURCE))
    assert job["schedule"] == "*/20 * * * *" and job["timeZone"] == "America/New_York"
    assert job["httpTarget"]["uri"] == "${CANARY_URL}"  # filled in at deploy time
    monitoring = json.loads(render_canary_monitoring(SMALL, SMALL_SOURCE))
    assert monitoring["log_metric"]["filter"] == (
        'jsonPayload.message =~ "^CANARY_HEARTBEAT" AND labels.phasegate_pipeline = "small-stats"')
    assert monitoring["log_metric"]["name"] == "phasegate_canary_heartbeat_small_stats"
    [condition] = monitoring["alert_policy"]["conditions"]
    assert condition["conditionAbsent"]["duration"] == "3600s"  # three 20-minute intervals
    metric = monitoring["log_metric"]["name"]
    assert metric in condition["conditionAbsent"]["filter"]


def test_the_heartbeat_log_line_matches_the_metric_filter():
    """The filter the policy counts is the line every canary run writes."""
    import datetime as dt
    import io
    import re

    from phasegate.canary.evaluate import Settings
    from phasegate.canary.run import run_once

    class EmptyStore:
        calls: dict = {}

        def read_documents(self, wanted):
            return dict.fromkeys(wanted)

        def read_incidents(self):
            return {}

        def finish(self, updates, heartbeat):
            self.heartbeat = heartbeat

    stream = io.StringIO()
    store = EmptyStore()
    settings = Settings(canary_document())
    settings.expectations["canary"]["notify"] = []
    run_once(store, settings, dt.datetime(2026, 2, 10, tzinfo=dt.UTC), stream=stream)
    [line] = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert re.match("^CANARY_HEARTBEAT", line["message"])
    # the metric counts this pipeline's heartbeats only: another canary cannot hide its absence
    assert line["logging.googleapis.com/labels"]["phasegate_pipeline"] == PIPELINE == "small-stats"
    assert store.heartbeat["outcome"] == "ok"


def test_an_artifact_from_another_phasegate_version_says_so(tmp_path):
    for folder in ("registry", "orchestrator", "canary", "deploy"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    (tmp_path / "docs").mkdir()
    for path in ("README.md", "docs/pipeline-graph.md"):  # the graph's artifacts
        shutil.copy(REPO / path, tmp_path / path)
    module = tmp_path / "orchestrator" / "expected_processors.py"
    old = module.read_text().replace(f"{__version__}", "0.0.9")
    module.write_text(old)
    # the version is recorded, not compared: the same content from another version is current
    assert run_phasegate("validate", "--root", str(tmp_path)).returncode == 0
    assert run_phasegate("generate", "--check", "--root", str(tmp_path)).returncode == 0
    assert Expectations.load(module).version == "0.0.9"
    # once the content differs too, the message names both versions, not a hand edit
    module.write_text(old.replace("'format': 2,", "'format': 1,"))
    result = run_phasegate("validate", "--root", str(tmp_path))
    assert result.returncode == 1
    [line] = [x for x in result.stdout.splitlines() if "PG201" in x]
    assert line.startswith("orchestrator/expected_processors.py:1:1: error PG201")
    assert f"was generated by phasegate 0.0.9, now {__version__}" in line
    assert "by hand" not in line


def test_a_hand_edit_that_keeps_the_digests_fails_at_load(tmp_path):
    text = orchestrator_module()
    edited = text.replace("'expected': ('p2_box', 'p2_lines', 'p2_props', 'p2_sheet'),",
                          "'expected': ('p2_box', 'p2_props', 'p2_sheet'),", 1)  # one name dropped
    assert edited != text
    path = tmp_path / "expected_processors.py"
    path.write_text(edited)
    with pytest.raises(ExpectationsError, match="was edited after generation"):
        Expectations.load(path)


@pytest.mark.parametrize("damage, message", [
    (lambda d: d["transitions"]["phase2_to_phase3"].update(expected="p2_box"),
     "transition 'phase2_to_phase3' expected is not a list of names"),
    (lambda d: d.update(transitions=[]), "transitions is not a mapping"),
    (lambda d: d["transitions"]["phase3_to_phase4"]["modes"]["same_day"].update(when="noon"),
     "mode 'same_day' is malformed"),
    (lambda d: d.update(aliases={"A": 1}), "aliases is not a mapping of names"),
])
def test_malformed_data_is_refused_even_with_a_matching_content_digest(damage, message):
    from phasegate.runtime import content_digest

    data = canary_document()
    damage(data)
    data["content_digest"] = content_digest(data)
    with pytest.raises(ExpectationsError, match=message):
        Expectations.from_data(data, "canary/expected.json")
