"""Completion latency with the BigQuery mirror on vs off, on the emulators.

Usage: python benchmarks/bench_mirror.py [--completions 200]

Starts the Firestore and Pub/Sub emulators and bqemulator, then delivers the
same completions (the five phase 3 processors of one run key, a new run key
each time: four WAITING and one firing per run key) through
``Orchestrator.handle_push`` with the mirror off and on (runs interleaved, each
run key in its own project). Reports p50 and p99 of ``handle_push`` (what the
Firestore path costs the delivery: the insert is handed to the mirror's worker
after the Firestore writes) and of ``handle_push`` plus ``settle_mirror`` (what
the deployed function waits before answering, so that Cloud Functions keeps
the CPU until the insert is done).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from phasegate.mirror.rows import schema_fields  # noqa: E402
from phasegate.mirror.sender import MirrorSender  # noqa: E402
from phasegate.orchestrator.core import Orchestrator  # noqa: E402
from phasegate.orchestrator.logs import CheckpointLog  # noqa: E402
from phasegate.runtime import Expectations  # noqa: E402
from phasegate.scenario.emulators import BigQueryEmulator, running_emulators  # noqa: E402
from tests.orchestrator_helpers import PHASE3, REFERENCE, FakeClock, completion, push  # noqa: E402


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--completions", type=int, default=200)
    args = parser.parse_args()
    import os

    os.environ["NO_GCE_CHECK"] = "True"
    from google.cloud import bigquery, firestore

    logs = Path(tempfile.mkdtemp(prefix="bench-mirror-"))
    with running_emulators(logs):
        bq = BigQueryEmulator().start(logs)
        try:
            client = bq.client()
            table = f"{bq.project}.bench.phase_completions"
            client.create_dataset(f"{bq.project}.bench", exists_ok=True)  # type: ignore[attr-defined]
            client.create_table(bigquery.Table(table, schema=[  # type: ignore[attr-defined]
                bigquery.SchemaField.from_api_repr(f) for f in schema_fields()]))
            mirrored = Expectations({**REFERENCE.data,
                                     "mirror": {"bigquery": {"table": table}}})
            sender = MirrorSender(table, client)
            times: dict[str, list[float]] = {"off": [], "on": [], "on+settle": []}
            rounds = max(1, args.completions // len(PHASE3))
            for index in range(rounds):
                for mode in ("off", "on"):
                    project = f"bench-{uuid.uuid4().hex[:10]}"
                    orchestrator = Orchestrator(
                        "phase3_to_phase4", firestore.Client(project=project),
                        expectations=mirrored if mode == "on" else REFERENCE,
                        clock=FakeClock(), project=project, publish=lambda *a: "id",
                        log=CheckpointLog(io.StringIO()),
                        mirror=sender if mode == "on" else None)
                    for number, name in enumerate(PHASE3):
                        body = push(completion(name), f"{index}-{number}")
                        started = time.perf_counter()
                        orchestrator.handle_push(body)
                        handled = time.perf_counter()
                        orchestrator.settle_mirror()
                        settled = time.perf_counter()
                        if index == 0:
                            continue  # warm-up
                        times[mode].append((handled - started) * 1000)
                        if mode == "on":
                            times["on+settle"].append((settled - started) * 1000)
            off = statistics.median(times["off"])
            for mode, values in times.items():
                p50 = statistics.median(values)
                print(f"{mode:10s} n={len(values):4d} p50 {p50:7.1f} ms  p99 "
                      f"{quantile(values, 0.99):7.1f} ms  ({(p50 / off - 1) * 100:+.0f}% at "
                      "p50 vs off)")
            print(f"rows sent {sender.sent}, failed sends {sender.failed}")
        finally:
            bq.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
