"""Decode and check completion messages: pure, so every malformed case is a unit test.

A message that cannot be understood is rejected with a reason (stored and
acknowledged by the caller); nothing here touches Firestore.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from phasegate.runtime import COMPLETING, STATUSES

_RUN_KEY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MAX_TEXT = 512  # bytes (UTF-8), so that 100 unknown entries stay far below Firestore's 1 MiB
_MAX_MESSAGE_ID = 512
_MAX_BODY = 1_000_000  # bytes of push body or payload; Pub/Sub itself allows 10 MB
_MAX_COUNT = 2**63 - 1  # Firestore integers are 64-bit


class Rejected(Exception):
    """The message is malformed; ``reason`` says how. Redelivery would not help."""

    def __init__(self, reason: str, raw: bytes | str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.raw = raw
        self.message_id: str | None = None
        self.subscription: str | None = None


@dataclass(frozen=True)
class PushEnvelope:
    """What a Pub/Sub push delivers: the payload bytes and the message's identity."""

    data: bytes
    message_id: str | None
    subscription: str | None


@dataclass(frozen=True)
class Completion:
    processor_name: str
    run_key: dt.date
    status: str
    message_id: str | None = None
    correlation_id: str | None = None
    execution_id: str | None = None
    record_count: int | None = None
    output_table: str | None = None
    timestamp: str | None = None

    @property
    def completes(self) -> bool:
        return self.status in COMPLETING


def _loads(data: bytes | str, what: str, raw: bytes | None = None) -> Any:
    """JSON, or Rejected (keeping ``raw``, the bytes as sent): never a RecursionError."""
    sent = data if raw is None else raw
    if len(data) > _MAX_BODY:
        raise Rejected(f"{what} is larger than {_MAX_BODY} bytes", sent[:_MAX_BODY])
    try:
        return json.loads(data)
    except RecursionError as error:
        raise Rejected(f"{what} is nested too deeply", sent) from error
    except (ValueError, UnicodeDecodeError) as error:
        raise Rejected(f"{what} is not JSON: {error}", sent) from error


def decode_push(event_data: Any) -> PushEnvelope:
    """The Pub/Sub message inside a push body or a CloudEvent's data (a dict, or JSON text)."""
    if isinstance(event_data, bytes | str):
        if not event_data:
            raise Rejected("push body is empty", event_data)
        event_data = _loads(event_data, "push body")
    if not isinstance(event_data, dict) or not isinstance(event_data.get("message"), dict):
        raise Rejected("push body has no 'message' object", _dump(event_data))
    message = event_data["message"]
    message_id = _message_id(message.get("messageId") or message.get("message_id"))
    subscription = _text_or_none(event_data.get("subscription"))
    encoded = message.get("data")
    try:
        if encoded is None or encoded == "":
            raise Rejected("message has no data", _dump(message))
        if not isinstance(encoded, str):
            raise Rejected("message.data is not a base64 string", _dump(message))
        try:
            data = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as error:
            raise Rejected(f"message.data is not valid base64: {error}", encoded) from error
    except Rejected as rejected:
        rejected.message_id, rejected.subscription = message_id, subscription
        raise
    if message_id is not None and len(message_id.encode("utf-8")) > _MAX_MESSAGE_ID:
        too_long = Rejected(f"message id is longer than {_MAX_MESSAGE_ID} bytes", _dump(message))
        too_long.message_id, too_long.subscription = message_id, subscription
        raise too_long
    return PushEnvelope(data=data, message_id=message_id, subscription=subscription)


def _shown(value: Any) -> str:
    """A value in a reason: short, whatever was sent."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _dump(value: Any) -> str:
    try:
        return json.dumps(value, default=str)[:_MAX_BODY]
    except (ValueError, RecursionError):
        return repr(value)[:10_000]


def _message_id(value: Any) -> str | None:
    """Pub/Sub's message id: a short string (a number is taken as its text)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return _text_or_none(value)


def _text_or_none(value: Any) -> str | None:
    """A usable text (an id, a subscription), or None: never a lone surrogate or a megabyte."""
    if not isinstance(value, str) or not value or len(value) > 10_000 or not _encodable(value):
        return None
    return value


def _encodable(text: str) -> bool:
    """Firestore stores UTF-8: a lone surrogate (valid in JSON, not in UTF-8) cannot be."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_completion(data: bytes, message_id: str | None = None) -> Completion:
    """Check a completion payload (JSON bytes) and return it, or raise :class:`Rejected`."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Rejected(f"payload is not UTF-8: {error}", data) from error
    payload = _loads(text, "payload", data)
    if not isinstance(payload, dict):
        raise Rejected(f"payload is a JSON {type(payload).__name__}, not an object", data)
    name = payload.get("processor_name")
    if not isinstance(name, str) or not name.strip():
        raise Rejected("processor_name is missing or not a non-empty string", data)
    if (len(name) > 256 or name.startswith("_") or any(ord(c) < 32 for c in name)
            or not _encodable(name) or name != name.strip()):
        raise Rejected(f"processor_name {name[:80]!r} is not a usable name (too long, starts "
                       "with _, surrounding spaces, control characters or a lone surrogate)",
                       data)
    return Completion(
        processor_name=name,
        run_key=_run_key(payload, data),
        status=_status(payload, data),
        message_id=message_id,
        correlation_id=_optional_text(payload, "correlation_id", data),
        execution_id=_optional_text(payload, "execution_id", data),
        record_count=_record_count(payload, data),
        output_table=_optional_text(payload, "output_table", data),
        timestamp=_optional_text(payload, "timestamp", data),
    )


def _run_key(payload: dict[str, Any], data: bytes) -> dt.date:
    game_date, run_key = payload.get("game_date"), payload.get("run_key")
    if game_date is not None and run_key is not None and game_date != run_key:
        raise Rejected(f"game_date {_shown(game_date)} and run_key {_shown(run_key)} disagree",
                       data)
    value = run_key if run_key is not None else game_date
    if value is None:
        raise Rejected("game_date (or run_key) is missing", data)
    if not isinstance(value, str) or not _RUN_KEY.fullmatch(value):
        raise Rejected(f"run key {_shown(value)} is not a date written YYYY-MM-DD", data)
    try:
        day = dt.date.fromisoformat(value)
    except ValueError as error:
        raise Rejected(f"run key {value!r} is not a date: {error}", data) from error
    if not 2000 <= day.year <= 2100:
        raise Rejected(f"run key {value!r} is outside 2000-2100", data)
    return day


def _status(payload: dict[str, Any], data: bytes) -> str:
    status = payload.get("status")
    if not isinstance(status, str) or status not in STATUSES:
        allowed = ", ".join(sorted(STATUSES))
        raise Rejected(f"status {_shown(status)} is not one of {allowed}", data)
    return str(status)


def _optional_text(payload: dict[str, Any], key: str, data: bytes) -> str | None:
    value = payload.get(key)
    if value is None:
        return None
    if (not isinstance(value, str) or not _encodable(value)
            or len(value.encode("utf-8")) > _MAX_TEXT):
        raise Rejected(f"{key} must be a UTF-8 string of at most {_MAX_TEXT} bytes", data)
    return value


def _record_count(payload: dict[str, Any], data: bytes) -> int | None:
    value = payload.get("record_count")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_COUNT:
        shown = repr(value)[:40]
        raise Rejected(f"record_count {shown} is not an integer from 0 to 2^63-1", data)
    return value
