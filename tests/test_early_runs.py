"""Early LATE in whole canary runs and `explain`, against the Firestore emulator."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.conftest import run_phasegate
from tests.orchestrator_helpers import firestore_client
from tests.test_canary_runs import EXPECTED, PHASE2, make_settings, run

pytestmark = pytest.mark.usefixtures("emulators")
LAST = PHASE2[-1]  # the processor that goes quiet tonight
TONIGHT = "2026-02-09"
FIRST = dt.datetime(2026, 2, 10, 2, 0, tzinfo=dt.UTC)  # tonight's first completion


def seed(project, history_nights=7, last_offset=50):
    """``history_nights`` complete nights before tonight (LAST at ``last_offset`` minutes,
    minus the night's number), and tonight without LAST."""
    collection = firestore_client(project).collection("phase2_completion")
    for n in range(1, history_nights + 1):
        first = FIRST - dt.timedelta(days=n)
        body = {name: {"status": "success", "completed_at": first + dt.timedelta(minutes=i)}
                for i, name in enumerate(PHASE2[:-1])}
        body[LAST] = {"status": "success",
                      "completed_at": first + dt.timedelta(minutes=last_offset - n)}
        body.update(_first_completion_at=first, _triggered=True)
        collection.document((dt.date(2026, 2, 9) - dt.timedelta(days=n)).isoformat()).set(body)
    tonight = {name: {"status": "success", "completed_at": FIRST + dt.timedelta(minutes=i)}
               for i, name in enumerate(PHASE2[:-1])}
    tonight.update(_first_completion_at=FIRST, _registry_digest=EXPECTED["registry_digest"])
    collection.document(TONIGHT).set(tonight)


def test_learned_rule_opens_late_from_the_one_batched_read(project_id):
    seed(project_id)
    settings = make_settings([{"log": {}}])
    before, _ = run(project_id, settings, FIRST + dt.timedelta(minutes=49 + 30))
    assert [c.state for c in before.checks if c.run_key == TONIGHT][0] == "WAITING"
    result, store = run(project_id, settings, FIRST + dt.timedelta(minutes=49 + 31))
    [late] = [c for c in result.checks if c.run_key == TONIGHT
              and c.transition == "phase2_to_phase3"]
    assert (late.state, late.alerting) == ("LATE", True)
    assert f"{LAST} usually by +0h49, now +1h20 (latest of 7 completions in 14 days)" \
        in late.detail
    # the 14 days of history come in the same batched get: 2 reads, 1 claim, 1 commit
    assert dict(store.calls) == {"reads": 2, "writes": 1, "commits": 1}
    assert [d.notification.state for d in result.deliveries] == ["LATE"]


def test_without_history_the_deadline_decides(project_id):
    seed(project_id, history_nights=4)  # below min_samples
    settings = make_settings([{"log": {}}])
    result, _ = run(project_id, settings, FIRST + dt.timedelta(minutes=239))
    assert [c.state for c in result.checks if c.run_key == TONIGHT][0] == "WAITING"
    result, _ = run(project_id, settings, FIRST + dt.timedelta(minutes=240))
    assert [c.state for c in result.checks if c.run_key == TONIGHT][0] == "LATE"


def test_json_and_explain_say_which_rule_and_the_usual_time(project_id, emulators):
    seed(project_id)
    env = {"GOOGLE_CLOUD_PROJECT": project_id,
           "FIRESTORE_EMULATOR_HOST": emulators["firestore"]}
    now = (FIRST + dt.timedelta(minutes=90)).isoformat()
    result = run_phasegate("canary", "run", "--once", "--now", now, "--format", "json",
                           "--dry-run", env=env)
    assert result.returncode == 1, result.stderr
    [late] = [c for c in json.loads(result.stdout)["checks"]
              if c["state"] == "LATE" and c["transition"] == "phase2_to_phase3"]
    assert late["missing"] == [{
        "name": LAST, "status": "enabled", "last_reported": "2026-02-08", "this_run": None,
        "early": "learned: usually by +0h49, now +1h30 (latest of 7 completions in 14 days)"}]
    explained = run_phasegate("explain", "phase2_to_phase3", TONIGHT, "--now", now, env=env)
    assert explained.returncode == 0, explained.stderr
    out = explained.stdout
    assert "early rules (silent for 2 run keys; learned from 14 days, at least 5 " \
           "completions, slack 30 min):" in out
    assert f"  {LAST}: usually by +0h49 (median +0h46, 7 completions); late by the learned: " \
           "usually by +0h49, now +1h30" in out
    assert f"  {PHASE2[0]}: usually by +0h00 (median +0h00, 7 completions); complete" in out
    # an old run key, outside today's window: its own learning window is read
    old = run_phasegate("explain", "phase2_to_phase3", "2026-02-05", "--now", now, env=env)
    assert old.returncode == 0, old.stderr
    assert f"  {LAST}: not learned yet (fewer than 5 completions); complete" in old.stdout
