"""The mirror's deploy-time artifacts: the table schema `generate` writes, the plan's dataset
and table steps (checked by the installed gcloud's own parser), and the detection time the
canary records when it opens an incident (early LATE included)."""

from __future__ import annotations

import datetime as dt
import io
import json
import textwrap
from pathlib import Path

from phasegate.deploy.commands import plan_command
from phasegate.registry.loading import load_registry
from tests.conftest import REFERENCE_REGISTRY, run_phasegate
from tests.test_deploy import discovery, gcloud  # noqa: F401 - pytest fixtures

COLUMNS = ["event", "transition", "run_key", "processor", "status", "state", "reason", "at_ts",
           "detected_after_s", "message_id", "trigger_id", "registry_digest"]


def _mirrored(root: Path) -> Path:
    text = REFERENCE_REGISTRY.read_text().split("\ngenerate:")[0] + textwrap.dedent("""
        mirror:
          bigquery: {table: my-project.nba_orchestration.phase_completions}
        generate:
          - {path: deploy/mirror-schema.json, format: bigquery-schema}
        """)
    (root / "registry").mkdir(parents=True)
    registry = root / "registry" / "processors.yaml"
    registry.write_text(text)
    return registry


def test_generate_writes_the_tables_schema_and_check_sees_an_edit(tmp_path):
    _mirrored(tmp_path)
    assert run_phasegate("generate", "--root", str(tmp_path)).returncode == 0
    fields = json.loads((tmp_path / "deploy" / "mirror-schema.json").read_text())
    assert [f["name"] for f in fields] == COLUMNS  # DESIGN's columns, `at_ts` never `at`
    assert "Generated from registry/processors.yaml by phasegate" in fields[0]["description"]
    assert {f["name"]: f["type"] for f in fields}["at_ts"] == "TIMESTAMP"
    assert run_phasegate("generate", "--root", str(tmp_path), "--check").returncode == 0
    schema = tmp_path / "deploy" / "mirror-schema.json"
    schema.write_text(schema.read_text().replace('"at_ts"', '"at"'))
    stale = run_phasegate("generate", "--root", str(tmp_path), "--check")
    assert stale.returncode == 1 and "mirror-schema.json is stale" in stale.stderr


def test_the_plan_creates_dataset_and_table_and_gcloud_parses_it(
        gcloud: str, discovery: object, tmp_path: Path) -> None:  # noqa: F811
    registry = load_registry(_mirrored(tmp_path)).registry
    assert registry is not None
    out, err = io.StringIO(), io.StringIO()
    code = plan_command(registry, "registry/processors.yaml", tmp_path, project="my-project",
                        region="us-west2", check=True, out=out, err=err)
    assert code == 0, err.getvalue()
    script = out.getvalue()
    assert "gcloud alpha bq datasets create nba_orchestration" in script
    assert "gcloud services enable bigquery.googleapis.com --project=my-project" in script
    assert "--role=roles/bigquery.dataEditor" in script  # else every insert is refused
    assert "bq mk --table" in script and "phase_completions" in script
    assert "0 failed" in err.getvalue()


def test_an_incident_records_when_its_state_started_to_hold(project_id):
    """The canary stores ``detectable_at`` on an opening: the deadline for a deadline LATE,
    the moment the learned rule held for an early one."""
    from phasegate.canary.store import INCIDENTS
    from tests.orchestrator_helpers import firestore_client
    from tests.test_canary_runs import make_settings, run
    from tests.test_early_runs import FIRST, seed

    seed(project_id)  # LAST's latest offset is 49 minutes: the rule holds at +79 min
    result, _ = run(project_id, make_settings([{"log": {}}]), FIRST + dt.timedelta(minutes=85))
    [late] = [c for c in result.checks if c.state == "LATE" and c.alerting]
    assert late.detectable == FIRST + dt.timedelta(minutes=79)
    incidents = [d.to_dict() for d in firestore_client(project_id).collection(INCIDENTS).stream()]
    [opened] = [i for i in incidents if i["state"] == "LATE"]
    assert opened["detectable_at"] == FIRST + dt.timedelta(minutes=79)
    assert opened["opened_at"] - opened["detectable_at"] == dt.timedelta(minutes=6)
