"""Helpers for emulator-backed orchestrator tests: clients, clock, deliveries."""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phasegate.orchestrator.core import Orchestrator
from phasegate.orchestrator.logs import CheckpointLog
from phasegate.orchestrator.store import DELIVERY_BUDGET_S
from phasegate.runtime import Expectations

REFERENCE = Expectations.load(
    Path(__file__).resolve().parent.parent / "orchestrator" / "expected_processors.py")
"""The reference pipeline's generated expectations, as its deployed function reads them."""

PHASE3 = ["PlayerGameSummaryProcessor", "TeamOffenseGameSummaryProcessor",
          "TeamDefenseGameSummaryProcessor", "UpcomingPlayerGameContextProcessor",
          "UpcomingTeamGameContextProcessor"]
TRIGGER_TOPIC = "nba-phase4-trigger"


@dataclass
class FakeClock:
    now: dt.datetime = field(
        default_factory=lambda: dt.datetime(2026, 2, 10, 15, 0, tzinfo=dt.UTC))

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def push(payload: dict[str, Any], message_id: str) -> dict[str, Any]:
    data = base64.b64encode(json.dumps(payload).encode()).decode()
    return {"message": {"data": data, "messageId": message_id,
                        "publishTime": "2026-02-10T15:00:00Z"},
            "subscription": "projects/p/subscriptions/s"}


def completion(name: str, run_key: str = "2026-02-09", status: str = "success",
               **extra: Any) -> dict[str, Any]:
    return {"processor_name": name, "game_date": run_key, "status": status, **extra}


def firestore_client(project: str) -> Any:
    from google.cloud import firestore

    return firestore.Client(project=project)


def make_orchestrator(project: str, transition: str, clock: FakeClock | None = None,
                      publish: Any = None, timeout: float = DELIVERY_BUDGET_S,
                      ) -> tuple[Orchestrator, io.StringIO]:
    stream = io.StringIO()
    orchestrator = Orchestrator(transition, firestore_client(project), publish=publish,
                                expectations=REFERENCE,
                                clock=clock or FakeClock(), project=project,
                                log=CheckpointLog(stream, project=project), timeout=timeout)
    return orchestrator, stream


def checkpoints(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def create_trigger_subscription(project: str) -> str:
    """The trigger topic and a subscription on it; returns the subscription path."""
    from google.cloud import pubsub_v1

    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    topic = publisher.topic_path(project, TRIGGER_TOPIC)
    publisher.create_topic(name=topic)
    subscription = subscriber.subscription_path(project, "phase4-listener")
    subscriber.create_subscription(name=subscription, topic=topic)
    return subscription


def drain(subscription: str, expect_at_most: int = 1000) -> list[dict[str, Any]]:
    """Every message waiting on the subscription (acknowledged), as decoded JSON."""
    from google.cloud import pubsub_v1

    subscriber = pubsub_v1.SubscriberClient()
    messages: list[dict[str, Any]] = []
    empty_pulls = 0
    while empty_pulls < 2 and len(messages) <= expect_at_most:
        response = subscriber.pull(subscription=subscription, max_messages=100,
                                   return_immediately=True, timeout=10)
        if not response.received_messages:
            empty_pulls += 1
            continue
        ids = []
        for received in response.received_messages:
            messages.append(json.loads(received.message.data))
            ids.append(received.ack_id)
        subscriber.acknowledge(subscription=subscription, ack_ids=ids)
    return messages
