"""Read a scenario file: checked field by field, every error with file, line and column."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from phasegate.registry.yaml_loader import Positions, UnreadableFile, load_file
from phasegate.runtime import parse_duration

STATES = ("MISSING_RUN", "LATE", "STUCK", "UNKNOWN_NAMES", "STALE_REGISTRY", "CANARY_ERROR")


class ScenarioError(Exception):
    """A malformed scenario: ``path:line:col: message``."""

    def __init__(self, path: str, line: int, column: int, message: str) -> None:
        super().__init__(f"{path}:{line}:{column}: {message}")
        self.path, self.line, self.column, self.message = path, line, column, message


@dataclass(frozen=True)
class Event:
    at: dt.timedelta
    payload: dict[str, Any]
    deliver: bool = True
    transition: str | None = None
    message_id: str | None = None
    prewrite: bool = False  # a second writer records the key outside the orchestrator


@dataclass(frozen=True)
class ScenarioExpectation:
    kind: Literal["opens", "resolves", "triggered", "no_other_alerts"]
    state: str = ""
    transition: str = ""
    run_key: str = ""
    between: tuple[dt.timedelta, dt.timedelta] | None = None
    detectable_at: dt.timedelta | None = None
    line: int = 0
    reason: str | None = None  # triggered: the firing's reason (all_complete, tier:2h, ...)
    messages: int | None = None  # triggered: how many messages it sent in all (POSTs too)

    def describe(self) -> str:
        if self.kind == "no_other_alerts":
            return "no_other_alerts"
        what = f"{self.kind} {self.state}" if self.kind != "triggered" else "triggered"
        window = (f" between {format_duration(self.between[0])} and "
                  f"{format_duration(self.between[1])}" if self.between else "")
        extra = (f" ({self.reason})" if self.reason else "") + (
            f", {self.messages} message(s)" if self.messages is not None else "")
        return f"{what} {self.transition} {self.run_key}{extra}{window}"


@dataclass
class Scenario:
    path: Path
    registry: Path | dict[str, Any]
    start: dt.datetime
    canary_every: dt.timedelta
    until: dt.timedelta
    events: list[Event] = field(default_factory=list)
    expect: list[ScenarioExpectation] = field(default_factory=list)
    calendar: frozenset[str] = frozenset()
    trigger_publish: str = "ok"
    topic: str = "routed"  # routed: by the processor's phase; shared: every function gets all
    mirror: str | None = None  # bigquery: the registry's mirror, pointed at bqemulator

    @property
    def name(self) -> str:
        return self.path.stem


def format_duration(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    if seconds or not parts:
        parts.append(f"{seconds}s")
    return "".join(parts)


class _Reader:
    def __init__(self, path: Path, positions: Positions) -> None:
        self.path, self.positions = path, positions

    def fail(self, where: tuple[Any, ...], message: str, key: bool = False) -> ScenarioError:
        position = self.positions.of(where, key=key)
        return ScenarioError(str(self.path), position.line, position.column, message)

    def mapping(self, value: Any, where: tuple[Any, ...], allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "expected a mapping")
        for key in value:
            if key not in allowed:
                raise self.fail((*where, key), f"unknown field {key!r} (allowed: "
                                f"{', '.join(sorted(allowed))})", key=True)
        return value

    def duration(self, value: Any, where: tuple[Any, ...]) -> dt.timedelta:
        parsed = parse_duration(value)
        if parsed is None:
            raise self.fail(where, f"{value!r} is not a duration such as 15m, 4h30m or 1d1h")
        return parsed

    def text(self, value: Any, where: tuple[Any, ...], what: str) -> str:
        if isinstance(value, dt.date):
            return value.isoformat()
        if not isinstance(value, str) or not value:
            raise self.fail(where, f"{what} must be a non-empty string")
        return value


def load_scenario(path: Path) -> Scenario:
    try:
        document = load_file(path, str(path))
    except UnreadableFile as error:
        raise ScenarioError(str(path), 1, 1, str(error)) from error
    if document.problems:
        problem = document.problems[0]
        raise ScenarioError(str(path), problem.position.line, problem.position.column,
                            problem.message)
    read = _Reader(path, document.positions)
    top = read.mapping(document.data, (), {"registry", "start", "canary_every", "until",
                                          "events", "expect", "calendar", "trigger_publish",
                                          "topic", "mirror",
                                          "description"})  # description: for readers
    for required in ("registry", "start", "until"):
        if required not in top:
            raise read.fail((), f"missing required field {required!r}")
    registry = top["registry"]
    if isinstance(registry, str):
        registry_file = (path.parent / registry).resolve()
        registry_source: Path | dict[str, Any] = registry_file
        if not registry_file.is_file():
            raise read.fail(("registry",), f"registry file {registry!r} does not exist")
    elif isinstance(registry, dict):
        registry_source = registry
    else:
        raise read.fail(("registry",), "registry must be a path or an inline registry mapping")
    start = top["start"]
    if isinstance(start, str):
        try:
            start = dt.datetime.fromisoformat(start)
        except ValueError:
            start = None
    if not isinstance(start, dt.datetime) or start.tzinfo is None:
        raise read.fail(("start",), "start must be a date and time with a UTC offset, such as "
                        "2026-02-09T22:00:00-05:00")
    trigger_publish = top.get("trigger_publish", "ok")
    if trigger_publish not in ("ok", "failing"):
        raise read.fail(("trigger_publish",), "trigger_publish is ok or failing")
    topic = top.get("topic", "routed")
    if topic not in ("routed", "shared"):
        raise read.fail(("topic",), "topic is routed (each message reaches the function of its "
                        "processor's phase) or shared (one completion topic: every function "
                        "receives every message, as `phasegate deploy plan` deploys)")
    mirror = top.get("mirror")
    if mirror not in (None, "bigquery"):
        raise read.fail(("mirror",), "mirror is bigquery (completions, firings and incidents "
                        "also go to bqemulator) or absent")
    calendar = top.get("calendar") or []
    if not isinstance(calendar, list):
        raise read.fail(("calendar",), "calendar is a list of run keys")
    scenario = Scenario(
        path=path, registry=registry_source, start=start,
        canary_every=read.duration(top.get("canary_every", "15m"), ("canary_every",)),
        until=read.duration(top["until"], ("until",)),
        calendar=frozenset(read.text(d, ("calendar", i), "a calendar entry")
                           for i, d in enumerate(calendar)),
        trigger_publish=trigger_publish,
        topic=topic,
        mirror=mirror,
    )
    for index, raw in enumerate(top.get("events") or []):
        scenario.events.append(_event(read, raw, ("events", index)))
    if not isinstance(top.get("expect") or [], list):
        raise read.fail(("expect",), "expect is a list")
    for index, raw in enumerate(top.get("expect") or []):
        scenario.expect.append(_expectation(read, raw, ("expect", index)))
    return scenario


def _event(read: _Reader, raw: Any, where: tuple[Any, ...]) -> Event:
    item = read.mapping(raw, where, {"at", "publish", "prewrite", "deliver", "transition",
                                     "message_id"})
    kinds = [k for k in ("publish", "prewrite") if k in item]
    if "at" not in item or len(kinds) != 1:
        raise read.fail(where, "an event needs 'at' and one of 'publish' or 'prewrite'")
    payload = read.mapping(item[kinds[0]], (*where, kinds[0]), {
        "processor_name", "game_date", "run_key", "status", "correlation_id", "execution_id",
        "record_count", "output_table", "timestamp"})
    payload = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in payload.items()}
    deliver = item.get("deliver", True)
    if not isinstance(deliver, bool):
        raise read.fail((*where, "deliver"), "deliver is true or false")
    return Event(read.duration(item["at"], (*where, "at")), payload, deliver,
                 item.get("transition"), item.get("message_id"), kinds[0] == "prewrite")


def _expectation(read: _Reader, raw: Any, where: tuple[Any, ...]) -> ScenarioExpectation:
    line = read.positions.of(where).line
    if raw == "no_other_alerts":
        return ScenarioExpectation("no_other_alerts", line=line)
    item = read.mapping(raw, where, {"opens", "resolves", "triggered", "transition", "run_key",
                                     "between", "detectable_at", "reason", "messages"})
    kinds = [k for k in ("opens", "resolves", "triggered") if k in item]
    if len(kinds) != 1:
        raise read.fail(where, "an expectation names one of opens, resolves, triggered (or is "
                        "no_other_alerts)")
    kind = kinds[0]
    between = item.get("between")
    window = None
    if between is not None:
        if not isinstance(between, list) or len(between) != 2:
            raise read.fail((*where, "between"), "between is [earliest, latest]")
        window = (read.duration(between[0], (*where, "between", 0)),
                  read.duration(between[1], (*where, "between", 1)))
    reason = messages = None
    if kind == "triggered":
        transition = read.text(item["triggered"], (*where, "triggered"), "triggered")
        state = ""
        if item.get("reason") is not None:
            reason = read.text(item["reason"], (*where, "reason"), "reason")
        if item.get("messages") is not None:
            messages = item["messages"]
            if isinstance(messages, bool) or not isinstance(messages, int) or messages < 0:
                raise read.fail((*where, "messages"), "messages is a count (0 or more)")
    else:
        for only in ("reason", "messages"):
            if only in item:
                raise read.fail((*where, only), f"{only} belongs to a triggered expectation")
        state = read.text(item[kind], (*where, kind), kind)
        if state not in STATES:
            raise read.fail((*where, kind), f"{state!r} is not an alerting state "
                            f"({', '.join(STATES)})")
        transition = read.text(item.get("transition"), (*where, "transition"), "transition")
    run_key = read.text(item.get("run_key"), (*where, "run_key"), "run_key")
    detectable = item.get("detectable_at")
    return ScenarioExpectation(kind, state, transition, run_key, window,
                               read.duration(detectable, (*where, "detectable_at"))
                               if detectable is not None else None, line, reason, messages)
