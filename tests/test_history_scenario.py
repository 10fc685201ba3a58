"""A replayed week with the BigQuery mirror on: `phasegate history` over the mirror reports
exactly the firing latencies and the LATE detection time the timeline implies
(scenarios/mirror_week.yaml)."""

from __future__ import annotations

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.usefixtures("emulators")


def test_history_of_the_mirrored_week_is_exact(bigquery, monkeypatch):
    from phasegate.scenario.runner import run_scenario
    from phasegate.scenario.spec import load_scenario

    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", bigquery.host)
    result = run_scenario(load_scenario(REPO / "scenarios" / "mirror_week.yaml"))
    assert result.passed, [r.message for r in result.results if not r.passed]
    history = result.history
    assert history is not None and history["source"] == "bigquery"
    by_name = {t["transition"]: t for t in history["transitions"]}
    phase2 = by_name["phase2_to_phase3"]
    # 25, 40, 60, 11h55m, 35, 50, 30 minutes: nearest rank p50 = 40m, p90 = max = 11h55m
    assert [f["latency_s"] for f in phase2["firings"]] == [
        1500.0, 2400.0, 3600.0, 42900.0, 2100.0, 3000.0, 1800.0]
    assert phase2["latency_s"] == {"p50": 2400.0, "p90": 42900.0, "max": 42900.0, "count": 7}
    assert phase2["days_late"] == ["2026-02-12"] and phase2["days_stuck"] == []
    [late] = phase2["incidents"]
    assert late["state"] == "LATE" and late["run_key"] == "2026-02-12"
    assert late["detected_after_s"] == 600.0  # deadline 02:05, alerted 02:15
    assert late["opened_at"] == "2026-02-13T07:15:00Z"
    assert late["resolved_at"] == "2026-02-13T15:00:00Z"
    assert phase2["detection_s"] == {"p50": 600.0, "max": 600.0}
    phase3 = by_name["phase3_to_phase4"]
    assert phase3["latency_s"] == {"p50": 1200.0, "p90": 1200.0, "max": 1200.0, "count": 7}
    assert phase3["incidents"] == [] and phase3["days_late"] == []
    # without the mirror, from the Firestore documents and the canary's incidents: the same
    assert result.firestore_history is not None
    assert result.firestore_history["source"] == "firestore"
    assert result.firestore_history["transitions"] == history["transitions"]
