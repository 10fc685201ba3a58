"""Run a scenario: simulated time through the real orchestrator and canary code.

Messages go through ``Orchestrator.handle_push`` (what ``on_completion``
runs) against the Firestore and Pub/Sub emulators, the canary runs at the
start and every ``canary_every`` through ``run_once``, and every clock in
that code is the simulation's. Each scenario gets its own project id, so
nothing one scenario writes is seen by another.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from phasegate.runtime import Expectations
from phasegate.scenario.spec import Scenario, ScenarioError, ScenarioExpectation, format_duration


@dataclass
class Happening:
    at: dt.timedelta
    kind: Literal["open", "renotify", "resolve", "triggered", "publish_failed", "sent"]
    key: str  # dedup key, or transition/run_key for triggers
    detail: str = ""


@dataclass
class ExpectationResult:
    expectation: ScenarioExpectation
    passed: bool
    happened_at: dt.timedelta | None
    message: str

    @property
    def detection(self) -> dt.timedelta | None:
        e = self.expectation
        if self.happened_at is None or e.detectable_at is None:
            return None
        return self.happened_at - e.detectable_at


@dataclass
class ScenarioResult:
    scenario: Scenario
    history: dict[str, Any] | None = None  # `phasegate history` JSON after the replay (mirror)
    history_text: str | None = None  # and as text
    firestore_history: dict[str, Any] | None = None  # the same from Firestore alone
    results: list[ExpectationResult] = field(default_factory=list)
    happenings: list[Happening] = field(default_factory=list)
    unaccounted: list[Happening] = field(default_factory=list)
    canary_runs: int = 0
    deliveries: int = 0

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def alerts(self) -> list[Happening]:
        return [h for h in self.happenings if h.kind == "open"]


def _registry(scenario: Scenario) -> tuple[Any, str, Path]:
    from phasegate.registry.loading import load_registry, load_registry_text
    from phasegate.validator.check import check_loaded

    if isinstance(scenario.registry, Path):
        loaded = load_registry(scenario.registry, scenario.registry.name)
        root = scenario.registry.parent.parent
        source = scenario.registry.name
    else:
        import yaml

        loaded = load_registry_text(yaml.safe_dump(scenario.registry, sort_keys=False),
                                    f"{scenario.path.name} (inline registry)")
        root = scenario.path.parent
        source = "inline registry"
    if loaded.registry is None:
        findings = check_loaded(loaded)
        first = findings[0].message if findings else "invalid"
        raise ScenarioError(str(scenario.path), 1, 1, f"the scenario's registry is invalid: "
                            f"{first}")
    return loaded.registry, source, root


def _push(payload: dict[str, Any], message_id: str) -> dict[str, Any]:
    data = base64.b64encode(json.dumps(payload).encode()).decode()
    return {"message": {"data": data, "messageId": message_id}, "subscription": "scenario"}


def run_scenario(scenario: Scenario) -> ScenarioResult:
    from phasegate.canary.evaluate import Settings
    from phasegate.generation import read_inputs
    from phasegate.registry.generate import render_json

    registry, source, root = _registry(scenario)
    inputs = read_inputs(registry, root)
    project = f"scenario-{uuid.uuid4().hex[:12]}"
    data = json.loads(render_json(registry, source, inputs))
    expectations = json.loads(render_json(registry, source, inputs))
    table = f"{project}.phasegate_scenario.phase_completions"
    if scenario.mirror == "bigquery":
        from phasegate.runtime import content_digest

        for plain in (data, expectations):  # as if the registry named this table
            plain["mirror"] = {"bigquery": {"table": table}}
            plain["content_digest"] = content_digest(plain)
    module = Expectations.from_data(data, source)
    expectations["canary"]["notify"] = [{"log": {}}]
    settings = Settings(expectations, frozenset(set(scenario.calendar) | inputs.calendar))
    with _bigquery(scenario, table) as bigquery:
        result = _run(scenario, registry, source, module, settings, project)
        if bigquery is not None:
            from phasegate.history.command import build_history
            from phasegate.history.report import as_json, as_text

            history = build_history(
                expectations, expectations["canary"], now=scenario.start + scenario.until,
                days=30, project=project, bigquery_client=bigquery)
            result.history, result.history_text = as_json(history), as_text(history)
            from google.cloud import firestore

            # the same history from Firestore (documents and incidents), as without a mirror
            plain = {key: value for key, value in expectations.items() if key != "mirror"}
            result.firestore_history = as_json(build_history(
                plain, expectations["canary"], now=scenario.start + scenario.until, days=30,
                project=project, firestore_client=firestore.Client(project=project)))
    _judge(result)
    return result


@contextmanager
def _bigquery(scenario: Scenario, table: str) -> Iterator[Any]:
    """With ``mirror: bigquery``: bqemulator (the one at BIGQUERY_EMULATOR_HOST, else one
    started here), the scenario's dataset and table in it; its client. Else None."""
    import os
    import tempfile

    if scenario.mirror != "bigquery":
        yield None
        return
    from phasegate.mirror.rows import schema_fields, split_table
    from phasegate.mirror.sender import EMULATOR_VARIABLE, bigquery_client
    from phasegate.scenario.emulators import (
        BigQueryEmulator,
        EmulatorsUnavailable,
        bqemulator_problem,
    )

    started = None
    saved = os.environ.get(EMULATOR_VARIABLE)
    try:
        if not saved:
            problem = bqemulator_problem()
            if problem:
                raise EmulatorsUnavailable(problem)
            try:
                started = BigQueryEmulator().start(Path(tempfile.mkdtemp(prefix="bqemulator-")))
            except RuntimeError as error:
                raise EmulatorsUnavailable(str(error)) from error
            os.environ[EMULATOR_VARIABLE] = started.host
        from google.cloud import bigquery

        project, dataset, _ = split_table(table)
        client = bigquery_client(project)
        client.create_dataset(f"{project}.{dataset}", exists_ok=True)
        client.create_table(bigquery.Table(table, schema=[
            bigquery.SchemaField.from_api_repr(f) for f in schema_fields()]), exists_ok=True)
        yield client
    finally:
        if started is not None:
            started.stop()
            os.environ.pop(EMULATOR_VARIABLE, None)


def _run(scenario: Scenario, registry: Any, source: str, module: Expectations, settings: Any,
         project: str) -> ScenarioResult:
    from google.cloud import firestore, pubsub_v1  # type: ignore[attr-defined]

    from phasegate.orchestrator.core import Orchestrator
    from phasegate.orchestrator.logs import CheckpointLog

    client = firestore.Client(project=project)
    publisher = pubsub_v1.PublisherClient()
    for spec in module.transitions.values():
        if spec["action"] == "trigger" and spec.get("trigger_topic"):
            publisher.create_topic(name=publisher.topic_path(project, spec["trigger_topic"]))
    moment = [scenario.start]  # the simulated time, set by the replay, read by every clock
    result = ScenarioResult(scenario)

    def clock() -> dt.datetime:
        return moment[0]

    def set_now(at: dt.datetime) -> None:
        moment[0] = at

    def sent(attributes: dict[str, str]) -> None:
        identity = attributes.get("trigger_id", "")
        key = "/".join(identity.split("/")[:2])
        result.happenings.append(Happening(moment[0] - scenario.start, "sent", key, identity))

    def publish(topic: str, data: bytes, attributes: dict[str, str]) -> str:
        if scenario.trigger_publish == "failing":
            raise ConnectionError(f"publishing to {topic} fails in this scenario")
        future = publisher.publish(publisher.topic_path(project, topic), data, **attributes)
        message_id = str(future.result(timeout=20))
        sent(attributes)
        return message_id

    with _http_targets(module, sent) as environ:
        orchestrators = {name: Orchestrator(name, client, clock=clock, project=project,
                                            log=CheckpointLog(io.StringIO()),
                                            expectations=module, publish=publish,
                                            environ=environ,
                                            token_provider=lambda audience: "scenario-token")
                         for name in module.transitions}
        _replay(scenario, module, registry, settings, client, orchestrators, result, set_now)
        for orchestrator in orchestrators.values():
            orchestrator.settle_mirror()
    return result


def _replay(scenario: Scenario, module: Expectations, registry: Any, settings: Any, client: Any,
            orchestrators: dict[str, Any], result: ScenarioResult,
            set_now: Callable[[dt.datetime], None]) -> None:
    """The timeline: events and canary runs in order, each at its simulated moment."""
    from phasegate.canary.run import run_once
    from phasegate.canary.store import CanaryStore
    from phasegate.orchestrator.core import TriggerPublishFailed

    def heal(transition: str, run_key: str, at: dt.datetime) -> Any:
        outcome = orchestrators[transition].fire_due(dt.date.fromisoformat(run_key), at)
        if outcome.triggered_now:
            result.happenings.append(Happening(at - scenario.start, "triggered",
                                               f"{transition}/{run_key}", outcome.reason or ""))
        return outcome

    ticks: list[tuple[dt.timedelta, int, Any]] = []
    offset = dt.timedelta()
    while offset <= scenario.until:
        ticks.append((offset, 1, None))
        offset += scenario.canary_every
    events: list[tuple[dt.timedelta, int, Any]] = [
        (e.at, 0, e) for e in scenario.events if e.at <= scenario.until]
    timeline = sorted(events + ticks, key=lambda item: (item[0], item[1]))
    for index, (offset, _order, event) in enumerate(timeline):
        now = scenario.start + offset
        set_now(now)
        if event is None:
            run = run_once(CanaryStore(client, pipeline=registry.pipeline), settings, now,
                           stream=io.StringIO(), sleep=lambda seconds: None, heal=heal)
            result.canary_runs += 1
            for delivery in run.deliveries:
                note = delivery.notification
                result.happenings.append(Happening(offset, note.kind, note.dedup_key,
                                                   note.detail))
            continue
        if not event.deliver:
            continue
        if event.prewrite:
            _prewrite(client, module, event, now)
            continue
        shared = scenario.topic == "shared"
        for transition in (sorted(module.transitions) if shared and not event.transition
                           else _targets(event, module)):
            # one completion topic: every subscription receives the same message (same id)
            message_id = event.message_id or (f"e{index}" if shared else f"e{index}-{transition}")
            try:
                outcome = orchestrators[transition].handle_push(_push(event.payload, message_id))
                orchestrators[transition].settle_mirror()
            except TriggerPublishFailed as error:
                result.happenings.append(Happening(offset, "publish_failed",
                                                   f"{transition}/{event.payload.get('game_date')}",
                                                   str(error)))
                continue
            result.deliveries += 1
            if outcome.triggered_now:
                result.happenings.append(Happening(offset, "triggered",
                                                   f"{transition}/{outcome.run_key}",
                                                   outcome.reason or ""))


@contextmanager
def _http_targets(module: Expectations, sent: Callable[[dict[str, str]], None],
                  ) -> Iterator[dict[str, str]]:
    """A local HTTP server for every HTTP target: the environment that points them at it.

    Each POST it receives is a ``sent`` happening, so a scenario can say that
    a firing reached its HTTP target exactly once.
    """
    targets = [spec["target"] for spec in module.transitions.values()
               if (spec.get("target") or {}).get("kind") == "http"]
    if not targets:
        yield {}
        return
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            sent({"trigger_id": self.headers.get("Phasegate-Trigger-Id") or ""})
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/fire"
    environ: dict[str, str] = {}
    for target in targets:
        environ[str(target["url_env"])] = url
        if target.get("audience_env"):
            environ[str(target["audience_env"])] = "https://scenario.invalid"
    try:
        yield environ
    finally:
        server.shutdown()
        server.server_close()


def _prewrite(client: Any, module: Expectations, event: Any, now: dt.datetime) -> None:
    """Another writer records a processor's key directly (it happened: failure story 4)."""
    payload = event.payload
    canonical = module.aliases.get(str(payload.get("processor_name")),
                                   payload.get("processor_name"))
    run_key = str(payload.get("game_date") or payload.get("run_key"))
    for transition in _targets(event, module):
        collection = module.transitions[transition]["collection"]
        client.collection(collection).document(run_key).set(
            {canonical: {"status": payload.get("status", "success"), "completed_at": now}},
            merge=True)


def _targets(event: Any, module: Expectations) -> list[str]:
    """Which transition's function receives a message: by the processor's phase."""
    if event.transition:
        return [event.transition]
    canonical = module.aliases.get(str(event.payload.get("processor_name")))
    transitions = module.transitions
    if canonical is not None:
        phase = module.processors[canonical]["phase"]
        matching = [t for t, spec in transitions.items() if spec["from_phase"] == phase]
        if matching:
            return matching
    lowest = min(spec["from_phase"] for spec in transitions.values())
    return [t for t, spec in transitions.items() if spec["from_phase"] == lowest]


def _judge(result: ScenarioResult) -> None:
    accounted: set[str] = set()
    for expectation in result.scenario.expect:
        if expectation.kind == "no_other_alerts":
            continue
        if expectation.kind == "triggered":
            key = f"{expectation.transition}/{expectation.run_key}"
            found = [h for h in result.happenings if h.kind == "triggered" and h.key == key
                     and (expectation.reason is None or h.detail == expectation.reason)]
            if expectation.messages is not None:
                count = len([h for h in result.happenings if h.kind == "sent" and h.key == key])
                if count != expectation.messages:
                    result.results.append(ExpectationResult(
                        expectation, False, None,
                        f"sent {count} message(s), not {expectation.messages}"))
                    continue
        else:
            key = f"{expectation.transition}/{expectation.run_key}/{expectation.state}"
            kind = "open" if expectation.kind == "opens" else "resolve"
            found = [h for h in result.happenings if h.kind == kind and h.key == key]
            accounted.add(key)
        result.results.append(_within(expectation, found))
    result.unaccounted = [h for h in result.alerts if h.key not in accounted]
    for expectation in result.scenario.expect:
        if expectation.kind == "no_other_alerts":
            names = ", ".join(f"{h.key} at {format_duration(h.at)}" for h in result.unaccounted)
            result.results.append(ExpectationResult(
                expectation, not result.unaccounted, None,
                "no other alert" if not result.unaccounted else f"other alerts: {names}"))


def _within(expectation: ScenarioExpectation, found: list[Happening]) -> ExpectationResult:
    if not found:
        return ExpectationResult(expectation, False, None, "never happened")
    first = found[0]
    if expectation.between is None:
        return ExpectationResult(expectation, True, first.at,
                                 f"at {format_duration(first.at)}")
    low, high = expectation.between
    inside = [h for h in found if low <= h.at <= high]
    if inside:
        return ExpectationResult(expectation, True, inside[0].at,
                                 f"at {format_duration(inside[0].at)}")
    return ExpectationResult(expectation, False, first.at,
                             f"at {format_duration(first.at)}, outside the window")
