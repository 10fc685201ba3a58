"""history's pure computation (from rows and from Firestore documents), its reporters, and
the command's exit codes."""

from __future__ import annotations

import datetime as dt
import json

from phasegate.history.compute import from_firestore, from_rows, percentile, window
from phasegate.history.report import as_json, as_text, duration
from phasegate.mirror import rows
from tests.conftest import run_phasegate
from tests.orchestrator_helpers import REFERENCE

T2 = "phase2_to_phase3"
UTC = dt.UTC


def at(hour: int, minute: int = 0, day: int = 10) -> dt.datetime:
    return dt.datetime(2026, 2, day, hour, minute, tzinfo=UTC)


def test_percentiles_are_nearest_rank():
    assert percentile([], 50) is None
    assert percentile([5.0], 90) == 5.0
    assert percentile([1, 2, 3, 4], 50) == 2
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90) == 9


def test_window_is_today_and_the_days_before_in_the_registry_zone():
    # 03:00 UTC is still the 9th in New York
    assert window(at(3), "America/New_York", 7) == ("2026-02-03", "2026-02-09")


def test_from_rows_latency_dedup_and_incidents():
    digest = REFERENCE.registry_digest
    data = [
        rows.completion_row(T2, "2026-02-09", "p2_nbacom_gamebook_pdf", "success", at(3),
                            "m1", digest),
        rows.completion_row(T2, "2026-02-09", "p2_nbacom_gamebook_pdf", "success", at(3),
                            "m1", digest),  # a redelivery: BigQuery keeps one
        rows.completion_row(T2, "2026-02-09", "p2_odds_player_props", "failed", at(2), "m0",
                            digest),  # a failure never starts the clock
        rows.firing_row(T2, "2026-02-09", "all_complete", at(3, 45), f"{T2}/2026-02-09", "m9",
                        digest),
        rows.incident_row("open", T2, "2026-02-09", "LATE", at(7, 15), "late", 600.0, digest),
        rows.incident_row("resolve", T2, "2026-02-09", "LATE", at(9), "ok", None, digest),
        rows.completion_row(T2, "2026-01-01", "p2_nbacom_gamebook_pdf", "success", at(3, 0, 1),
                            "old", digest),  # outside the window
    ]
    history = from_rows(data, REFERENCE.data, "2026-02-03", "2026-02-10")
    phase2 = next(t for t in history.transitions if t.transition == T2)
    assert [r.latency_s for r in phase2.run_keys] == [2700.0]
    assert phase2.days_with("LATE") == ["2026-02-09"]
    [incident] = phase2.incidents
    assert incident.detected_after_s == 600.0 and incident.resolved_at == at(9)
    report = as_json(history)
    assert report["format"] == 1 and report["source"] == "bigquery"
    text = as_text(history)
    assert "45m" in text and "LATE" in text and "10m" in text


def test_from_firestore_documents_and_incidents():
    document = {
        "p2_nbacom_gamebook_pdf": {"status": "success", "completed_at": at(3)},
        "_first_completion_at": at(3), "_triggered": True, "_triggered_at": at(8, 5),
        "_trigger_reason": "all_complete", "_expected": ["p2_nbacom_gamebook_pdf"],
    }
    incidents = [{"transition": T2, "run_key": "2026-02-09", "state": "LATE",
                  "opened_at": at(7, 15), "resolved_at": at(8, 15), "pipeline": "nba-stats"},
                 {"transition": "gone", "run_key": "2026-02-09", "state": "LATE"}]
    history = from_firestore({("phase2_completion", "2026-02-09"): document,
                              ("phase2_completion", "2026-02-08"): None},
                             incidents, REFERENCE.data, "2026-02-03", "2026-02-10")
    phase2 = next(t for t in history.transitions if t.transition == T2)
    assert [r.latency_s for r in phase2.run_keys] == [5 * 3600 + 300.0]
    # deadline 240 minutes after 03:00 is 07:00: alerted at 07:15
    assert [i.detected_after_s for i in phase2.incidents] == [900.0]
    assert history.source == "firestore"


def test_duration_text():
    assert [duration(v) for v in (None, 45, 600, 3900, 42900)] == ["-", "45s", "10m", "1h05m",
                                                                   "11h55m"]


def test_history_usage_and_unreachable_exit_codes(tmp_path):
    assert run_phasegate("history", "--format", "yaml").returncode == 2
    assert run_phasegate("history", "--days", "x").returncode == 2
    # Firestore that does not answer: exit 3, one line, no traceback
    result = run_phasegate("history", "--now", "2026-02-10T12:00:00Z", "--project", "p",
                           env={"FIRESTORE_EMULATOR_HOST": "127.0.0.1:9", "NO_GCE_CHECK": "True"},
                           timeout=120)
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr and "Firestore" in result.stderr


def test_history_reads_the_mirror_and_fails_cleanly_when_bigquery_is_unreachable(tmp_path):
    registry = (tmp_path / "registry")
    registry.mkdir()
    from tests.conftest import REFERENCE_REGISTRY

    text = REFERENCE_REGISTRY.read_text()
    calendar = REFERENCE_REGISTRY.parent / "game_days.txt"
    if calendar.exists():
        (registry / "game_days.txt").write_text(calendar.read_text())
    (registry / "processors.yaml").write_text(
        text + "\nmirror:\n  bigquery: {table: my-project.d.t}\n")
    result = run_phasegate("history", "--root", str(tmp_path), "--format", "json",
                           env={"BIGQUERY_EMULATOR_HOST": "127.0.0.1:9", "NO_GCE_CHECK": "True"},
                           timeout=120)
    assert result.returncode == 3, result.stderr
    assert "BigQuery" in result.stderr and "Traceback" not in result.stderr
    json.dumps(result.stdout)
