"""Generated artifacts: deterministic, standard library only, and used by the runtime."""

from __future__ import annotations

import ast
import datetime as dt
import json
import shutil
import sys

from phasegate.canary.expectations import load_expectations
from phasegate.orchestrator import expected_processors
from phasegate.orchestrator.expectations import canonical_name, expectation_for, today
from phasegate.registry.generate import render_all
from phasegate.registry.loading import load_registry
from tests.conftest import REPO, run_phasegate

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


def test_header_names_source_and_digest():
    module = (REPO / "orchestrator" / "expected_processors.py").read_text().splitlines()
    assert module[0].startswith("# Generated from registry/processors.yaml by phasegate; do not")
    assert module[1] == f"# Registry digest: {expected_processors.REGISTRY_DIGEST}"
    document = json.loads((REPO / "canary" / "expected.json").read_text())
    assert document["_generated"].startswith("generated from registry/processors.yaml")
    assert document["registry_digest"] == expected_processors.REGISTRY_DIGEST


def test_output_is_the_same_from_another_checkout_location(tmp_path):
    copy = tmp_path / "elsewhere" / "checkout"
    shutil.copytree(REPO / "registry", copy / "registry")
    registry = load_registry(copy / "registry" / "processors.yaml", "registry/processors.yaml")
    assert registry.registry is not None
    for artifact in render_all(registry.registry, "registry/processors.yaml"):
        assert artifact.text == (REPO / artifact.path).read_text()


def test_orchestrator_uses_generated_expectations_with_registry_timezone():
    # 03:00 UTC on Feb 10 is still Feb 9 in New York: the 9th is "today" there
    now = dt.datetime(2026, 2, 10, 3, 0, tzinfo=dt.UTC)
    assert today(now) == dt.date(2026, 2, 9)
    same_day = expectation_for("phase3_to_phase4", dt.date(2026, 2, 9), now)
    assert same_day.mode == "same_day"
    assert same_day.expected == {"upcoming_player_game_context"}
    overnight = expectation_for("phase3_to_phase4", dt.date(2026, 2, 8), now)
    assert overnight.mode == "overnight" and len(overnight.expected) == 5
    assert overnight.required == {"player_game_summary", "upcoming_player_game_context"}
    tomorrow = expectation_for("phase3_to_phase4", dt.date(2026, 2, 10), now)
    assert tomorrow.mode == "tomorrow"
    phase2 = expectation_for("phase2_to_phase3", dt.date(2026, 2, 9), now)
    assert phase2.mode is None and "p2_bdl_box_scores" not in phase2.expected
    assert canonical_name("NbacGamebookProcessor") == "p2_nbacom_gamebook_pdf"
    assert canonical_name("NbacGambookProcessor") is None


def test_naive_now_is_refused():
    try:
        today(dt.datetime(2026, 2, 10, 3, 0))
    except ValueError as error:
        assert "timezone-aware" in str(error)
    else:
        raise AssertionError("a naive datetime must be refused")


def test_canary_reads_its_generated_json(tmp_path):
    data = load_expectations()
    assert data["canary"]["schedule"] == "*/15 * * * *"
    assert data["transitions"]["phase2_to_phase3"]["collection"] == "phase2_completion"
    broken = tmp_path / "expected.json"
    broken.write_text("{")
    try:
        load_expectations(broken)
    except RuntimeError as error:
        assert "phasegate generate" in str(error)
    else:
        raise AssertionError("a broken file must be an error")


def test_generate_refuses_an_invalid_registry(repo_dir):
    repo_dir("version: 1\npipeline: x\ntimezone: UTC\nprocessors:\n  p2_a: {phase: two}\n")
    result = run_phasegate("generate", "--root", str(repo_dir.root))
    assert result.returncode == 1
    assert "PG003" in result.stdout and "nothing generated" in result.stderr


def test_scheduler_job_and_heartbeat_policy_follow_the_registry():
    job = json.loads((REPO / "deploy" / "canary-scheduler.json").read_text())
    assert job["schedule"] == "*/15 * * * *" and job["timeZone"] == "America/New_York"
    assert job["httpTarget"]["uri"] == "${CANARY_URL}"  # filled in at deploy time
    monitoring = json.loads((REPO / "deploy" / "canary-monitoring.json").read_text())
    assert monitoring["log_metric"]["filter"] == 'jsonPayload.message =~ "^CANARY_HEARTBEAT"'
    [condition] = monitoring["alert_policy"]["conditions"]
    assert condition["conditionAbsent"]["duration"] == "2700s"  # three 15-minute intervals
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
    settings = Settings(json.loads((REPO / "canary" / "expected.json").read_text()))
    settings.expectations["canary"]["notify"] = []
    run_once(store, settings, dt.datetime(2026, 2, 10, tzinfo=dt.UTC), stream=stream)
    [line] = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert re.match("^CANARY_HEARTBEAT", line["message"])
    assert store.heartbeat["outcome"] == "ok"
