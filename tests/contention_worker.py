"""One of twenty processes delivering completions at the same instant (contention test).

Separate processes, each with its own Firestore and Pub/Sub clients, as
separate Cloud Function instances would be.
"""

from __future__ import annotations

import io
import os
import time
from typing import Any


def deliver(index: int, name: str, run_keys: list[str], barrier: Any, env: dict[str, str],
            project: str, results: Any, same_message: bool = False) -> None:
    """Deliver ``name``'s completion of every run key, all workers at the same instant.

    With ``same_message`` every worker delivers the *same* message (one id), as
    Pub/Sub does when it delivers a message twice at the same moment.
    """
    os.environ.update(env)
    try:
        from google.cloud import firestore

        from phasegate.orchestrator.core import Orchestrator
        from phasegate.orchestrator.logs import CheckpointLog
        from tests.orchestrator_helpers import REFERENCE, completion, push

        orchestrator = Orchestrator("phase3_to_phase4", firestore.Client(project=project),
                                    project=project, log=CheckpointLog(io.StringIO()),
                                    expectations=REFERENCE)
        outcomes = []
        for run_key in run_keys:
            message_id = f"same-{run_key}" if same_message else f"w{index}-{run_key}"
            event = push(completion(name, run_key), message_id)
            barrier.wait(timeout=120)
            outcome, attempts = deliver_until_acknowledged(orchestrator, event)
            elapsed = attempts[0]  # the function's own time; Pub/Sub's backoff is not
            outcomes.append((run_key, outcome.checkpoints, outcome.triggered_now,
                             outcome.published_id, elapsed, dict(orchestrator.store.calls)))
            orchestrator.store.calls.clear()
        results.put((index, outcomes, None))
    except Exception as error:  # reported by the test, with the worker's index
        results.put((index, [], f"{type(error).__name__}: {error}"))


def deliver_until_acknowledged(orchestrator: Any, event: Any, limit: int = 100,
                               ) -> tuple[Any, list[float]]:
    """What Pub/Sub does: deliver again (after a pause) while the function raises.

    Returns the outcome and the time each delivery attempt took.
    """
    from phasegate.orchestrator.core import TriggerInProgress

    took: list[float] = []
    for _ in range(limit):
        start = time.perf_counter()
        try:
            outcome = orchestrator.handle_push(event)
        except TriggerInProgress:
            took.append(time.perf_counter() - start)
            time.sleep(0.2)  # Pub/Sub's minimum backoff is 10 s; shorter here
            continue
        took.append(time.perf_counter() - start)
        return outcome, took
    raise AssertionError(f"still not acknowledged after {limit} deliveries")


def deliver_all_at_once(project: str, names: list[str], run_keys: list[str],
                        timeout: float = 900, same_message: bool = False,
                        ) -> list[tuple[int, list[Any], str | None]]:
    """One spawned process per name; for each run key all deliver at the same instant.

    Returns each worker's (index, outcomes, error).
    """
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(names))
    results = context.Queue()
    env = {k: os.environ[k] for k in ("FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST")}
    workers = [context.Process(target=deliver, args=(
        i, name, run_keys, barrier, env, project, results, same_message))
        for i, name in enumerate(names)]
    for worker in workers:
        worker.start()
    collected = [results.get(timeout=timeout) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    return collected
