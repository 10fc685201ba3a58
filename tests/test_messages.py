"""Completion messages: every malformed shape is rejected with a reason; modes by local date."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re

import pytest

from phasegate.orchestrator.logs import CheckpointLog
from phasegate.orchestrator.messages import Rejected, decode_push, parse_completion
from tests.registries import SMALL_EXPECTATIONS as EXPECTATIONS


def push(payload: bytes | str) -> dict:
    data = payload if isinstance(payload, bytes) else payload.encode()
    return {"message": {"data": base64.b64encode(data).decode(), "messageId": "m-1",
                        "publishTime": "2026-02-10T03:00:00Z"}, "subscription": "s"}


def test_valid_message_with_all_fields():
    body = {"processor_name": "NbacGamebookProcessor", "game_date": "2026-02-09",
            "status": "success", "correlation_id": "c-1", "execution_id": "e-1",
            "record_count": 42, "output_table": "nba_raw.gamebook", "timestamp": "t"}
    envelope = decode_push(push(json.dumps(body)))
    completion = parse_completion(envelope.data, envelope.message_id)
    assert completion.run_key == dt.date(2026, 2, 9)
    assert completion.completes and completion.message_id == "m-1"
    assert completion.record_count == 42


@pytest.mark.parametrize("status,completes", [
    ("success", True), ("partial", True), ("failed", False), ("no_data", False),
    ("skipped", False)])
def test_statuses(status, completes):
    body = json.dumps({"processor_name": "x", "run_key": "2026-02-09", "status": status})
    assert parse_completion(body.encode()).completes is completes


@pytest.mark.parametrize("event,reason", [
    ({"message": {"data": "!!!not base64"}}, "not valid base64"),
    ({"nothing": 1}, "no 'message' object"),
    (b"{broken", "push body is not JSON"),
    ({"message": {"data": 5}}, "not a base64 string"),
])
def test_bad_envelopes(event, reason):
    with pytest.raises(Rejected, match=reason):
        decode_push(event)


@pytest.mark.parametrize("payload,reason", [
    (b"not json", "not JSON"),
    (b"\xff\xfe", "not UTF-8"),
    (b"[1, 2]", "JSON list, not an object"),
    (b'{"game_date": "2026-02-09", "status": "success"}', "processor_name is missing"),
    (b'{"processor_name": "", "game_date": "2026-02-09", "status": "success"}',
     "processor_name is missing"),
    (b'{"processor_name": "_triggered", "game_date": "2026-02-09", "status": "success"}',
     "starts with _"),
    (b'{"processor_name": "x", "status": "success"}', "game_date (or run_key) is missing"),
    (b'{"processor_name": "x", "game_date": "2026-02-30", "status": "success"}',
     "is not a date"),
    (b'{"processor_name": "x", "game_date": "02/09/2026", "status": "success"}',
     "YYYY-MM-DD"),
    (b'{"processor_name": "x", "game_date": 20260209, "status": "success"}', "YYYY-MM-DD"),
    (b'{"processor_name": "x", "game_date": "2026-02-09", "run_key": "2026-02-10", '
     b'"status": "success"}', "disagree"),
    (b'{"processor_name": "x", "game_date": "2026-02-09", "status": "done"}',
     "status 'done' is not one of"),
    (b'{"processor_name": "x", "game_date": "2026-02-09", "status": "success", '
     b'"record_count": -1}', "record_count"),
    (b'{"processor_name": "x", "game_date": "2026-02-09", "status": "success", '
     b'"record_count": true}', "record_count"),
    (b'{"processor_name": "x", "game_date": "2026-02-09", "status": "success", '
     b'"correlation_id": 7}', "correlation_id must be a UTF-8 string"),
])
def test_bad_payloads(payload, reason):
    with pytest.raises(Rejected, match=re.escape(reason)) as caught:
        parse_completion(payload)
    assert caught.value.raw == payload


# Modes are chosen by the run key against today in America/New_York (the small test
# registry's timezone, tests/registries.py).

@pytest.mark.parametrize("now,local_today", [
    # daylight saving time ends 2026-11-01 at 02:00 EDT (06:00 UTC)
    ("2026-11-01T03:59:00+00:00", dt.date(2026, 10, 31)),  # 23:59 EDT Oct 31
    ("2026-11-01T04:00:00+00:00", dt.date(2026, 11, 1)),   # 00:00 EDT
    ("2026-11-01T05:30:00+00:00", dt.date(2026, 11, 1)),   # 01:30 EDT
    ("2026-11-01T06:30:00+00:00", dt.date(2026, 11, 1)),   # 01:30 EST, the repeated hour
    ("2026-11-02T04:59:00+00:00", dt.date(2026, 11, 1)),   # 23:59 EST
    ("2026-11-02T05:00:00+00:00", dt.date(2026, 11, 2)),   # 00:00 EST
    # daylight saving time starts 2026-03-08 at 02:00 EST (07:00 UTC)
    ("2026-03-08T04:59:00+00:00", dt.date(2026, 3, 7)),
    ("2026-03-08T05:00:00+00:00", dt.date(2026, 3, 8)),
    ("2026-03-09T03:59:00+00:00", dt.date(2026, 3, 8)),    # 23:59 EDT
])
def test_today_in_registry_timezone_across_dst(now, local_today):
    assert EXPECTATIONS.today(dt.datetime.fromisoformat(now)) == local_today


@pytest.mark.parametrize("now", ["2026-11-01T05:30:00+00:00", "2026-11-01T06:30:00+00:00",
                                 "2026-11-02T04:30:00+00:00"])
def test_modes_yesterday_today_tomorrow_on_the_day_dst_ends(now):
    moment = dt.datetime.fromisoformat(now)
    modes = {day: EXPECTATIONS.expectation("phase3_to_phase4", dt.date(2026, 11, day),
                                           moment).mode
             for day in (1, 2)}
    yesterday = EXPECTATIONS.expectation("phase3_to_phase4", dt.date(2026, 10, 31), moment)
    assert yesterday.mode == "overnight"
    assert yesterday.expected == {"game_summary", "team_summary", "game_context"}
    assert modes == {1: "same_day", 2: "tomorrow"}


def test_checkpoint_log_line_is_cloud_logging_json():
    import io

    stream = io.StringIO()
    CheckpointLog(stream, project="p").emit(
        "WAITING", "completed 4/5", transition="t", run_key="2026-02-09", correlation_id="abc",
        missing=["p2_x: enabled"])
    entry = json.loads(stream.getvalue())
    assert entry["severity"] == "INFO"
    assert entry["message"] == "WAITING t 2026-02-09: completed 4/5"
    assert entry["logging.googleapis.com/labels"] == {
        "phasegate_transition": "t", "phasegate_run_key": "2026-02-09",
        "phasegate_checkpoint": "WAITING"}
    assert entry["logging.googleapis.com/trace"] == "projects/p/traces/abc"
    assert entry["missing"] == ["p2_x: enabled"]


def test_a_line_without_a_run_key_has_no_empty_slot():
    import io

    stream = io.StringIO()
    entry = CheckpointLog(stream).emit("REJECTED", "push body is empty",
                                       transition="phase3_to_phase4")
    assert entry["message"] == "REJECTED phase3_to_phase4: push body is empty"
