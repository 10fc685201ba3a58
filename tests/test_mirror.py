"""The mirror's pure parts: rows, insert ids (bqemulator ignores them, so their
de-duplication is held here), the schema, and how failures are described."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from phasegate.mirror import rows
from phasegate.mirror.sender import MirrorSender, describe_insert_errors

AT = dt.datetime(2026, 2, 10, 3, 12, 5, tzinfo=dt.UTC)


def test_completion_insert_id_is_event_transition_run_key_processor_message():
    row = rows.completion_row("phase2_to_phase3", "2026-02-09", "p2_nbacom_gamebook_pdf",
                              "success", AT, "m-17", "d" * 64)
    assert rows.insert_id(row) == "completion/phase2_to_phase3/2026-02-09/p2_nbacom_gamebook_pdf/m-17"
    assert row["at_ts"] == "2026-02-10T03:12:05Z"
    assert set(row) == set(rows.COLUMN_NAMES)


def test_without_a_message_id_the_time_names_the_row():
    firing = rows.firing_row("t", "2026-02-09", "tier:30m", AT, "t/2026-02-09", None, None)
    assert rows.insert_id(firing) == "firing/t/2026-02-09/TRIGGERED/2026-02-10T03:12:05Z"
    opened = rows.incident_row("open", "t", "2026-02-09", "LATE", AT, "late", 600.0, None)
    assert rows.insert_id(opened) == "incident_open/t/2026-02-09/LATE/2026-02-10T03:12:05Z"
    assert opened["detected_after_s"] == 600.0
    resolved = rows.incident_row("resolve", "t", "2026-02-09", "LATE", AT, "ok", 5.0, None)
    assert resolved["detected_after_s"] is None
    assert rows.insert_id(resolved).startswith("incident_resolve/t/2026-02-09/LATE/")


def test_a_redelivery_builds_the_same_row_and_id_and_dedup_keeps_one():
    first = rows.completion_row("t", "2026-02-09", "p", "success", AT, "m1", "d")
    again = rows.completion_row("t", "2026-02-09", "p", "success", AT, "m1", "d")
    other = rows.completion_row("t", "2026-02-09", "p", "success", AT, "m2", "d")
    assert first == again and rows.insert_id(first) == rows.insert_id(again)
    assert rows.insert_id(other) != rows.insert_id(first)
    kept = rows.deduplicated([first, again, other, again])
    assert kept == [first, other]


def test_insert_ids_keep_transitions_run_keys_and_processors_apart():
    ids = {rows.insert_id(rows.completion_row(t, k, p, "success", AT, "m", None))
           for t in ("a", "b") for k in ("2026-02-09", "2026-02-10") for p in ("x", "y")}
    assert len(ids) == 8


def test_schema_columns_match_design_and_avoid_at():
    names = [f["name"] for f in rows.schema_fields()]
    assert names == ["event", "transition", "run_key", "processor", "status", "state",
                     "reason", "at_ts", "detected_after_s", "message_id", "trigger_id",
                     "registry_digest"]
    assert "at" not in names
    header = rows.schema_fields("Generated from x by phasegate 1.0")
    assert header[0]["description"].endswith("Generated from x by phasegate 1.0")
    json.dumps(header)


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        rows.completion_row("t", "k", "p", "success", dt.datetime(2026, 1, 1), "m", None)


def test_split_table():
    assert rows.split_table("my-project.nba_orchestration.phase_completions") == (
        "my-project", "nba_orchestration", "phase_completions")
    with pytest.raises(ValueError):
        rows.split_table("dataset.table")


def test_insert_errors_name_the_rejected_rows():
    text = describe_insert_errors(
        [{"index": 1, "errors": [{"reason": "invalid", "message": "no such field: x"}]}],
        ["a/1", "b/2"])
    assert text == "row rejected: b/2: no such field: x"
    assert describe_insert_errors([], ["a"]) is None


class _Rejecting:
    """A client answering as BigQuery does when it refuses a row (insertErrors)."""

    def insert_rows_json(self, table, data, row_ids, timeout, retry):
        return [{"index": 0, "errors": [{"reason": "invalid", "message": "bad row"}]}]


class _Broken:
    def insert_rows_json(self, table, data, row_ids, timeout, retry):
        raise ConnectionError("refused")


def test_sender_reports_instead_of_raising():
    row = rows.completion_row("t", "2026-02-09", "p", "success", AT, "m", None)
    assert MirrorSender("p.d.t", _Rejecting()).send([row]).startswith("row rejected: completion/t")
    reason = MirrorSender("p.d.t", _Broken()).send([row])
    assert "BigQuery unavailable" in reason and "refused" in reason
    assert MirrorSender("p.d.t", _Broken()).send([]) is None
