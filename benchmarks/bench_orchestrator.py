"""Firestore calls, latency and import time of the orchestrator, against the emulators.

Usage: python benchmarks/bench_orchestrator.py [--sequential 200] [--contention-keys 10]

Starts the official Firestore and Pub/Sub emulators (as the tests do),
then measures: Firestore calls per kind of delivery; p50/p99 latency of
one delivery sequentially and with 20 processes delivering at the same
instant;.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.emulators import Emulator, sdk_root  # noqa: E402
from tests.orchestrator_helpers import (  # noqa: E402
    PHASE3,
    completion,
    create_trigger_subscription,
    make_orchestrator,
    push,
)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(round(len(ordered) * fraction)) - 1)]


def calls_per_delivery(project: str) -> None:
    create_trigger_subscription(project)
    orchestrator, _ = make_orchestrator(project, "phase3_to_phase4")
    labels = ["first completion of a run key", "ordinary completion", "ordinary completion",
              "ordinary completion", "completion that triggers"]
    for label, (i, name) in zip(labels, enumerate(PHASE3), strict=True):
        orchestrator.store.calls.clear()
        orchestrator.handle_push(push(completion(name, "2026-10-01"), f"c-{i}"))
        print(f"    {label:32s} {dict(orchestrator.store.calls)}")
    orchestrator.store.calls.clear()
    orchestrator.handle_push(push(completion(PHASE3[0], "2026-10-01"), "c-0"))
    print(f"    {'duplicate after the trigger':32s} {dict(orchestrator.store.calls)}")


def sequential(project: str, count: int) -> None:
    create_trigger_subscription(project)
    orchestrator, _ = make_orchestrator(project, "phase3_to_phase4")
    samples = []
    for i in range(count):
        run_key = f"2026-09-{i // 5 % 28 + 1:02d}"
        event = push(completion(PHASE3[i % 5], run_key), f"s-{i}")
        start = time.perf_counter()
        orchestrator.handle_push(event)
        samples.append(time.perf_counter() - start)
    print(f"  sequential, {count} deliveries: p50 {statistics.median(samples) * 1000:.1f} ms, "
          f"p99 {percentile(samples, 0.99) * 1000:.1f} ms")


def contention(project: str, run_keys: int) -> None:
    from tests.contention_worker import deliver_all_at_once

    create_trigger_subscription(project)
    keys = [f"2026-08-{day:02d}" for day in range(1, run_keys + 1)]
    collected = deliver_all_at_once(project, [PHASE3[i % 5] for i in range(20)], keys)
    samples = [o[4] for _, outcomes, _ in collected for o in outcomes]
    calls = [sum(o[5].values()) for _, outcomes, _ in collected for o in outcomes]
    print(f"  20 processes at one instant, {len(samples)} deliveries: "
          f"p50 {statistics.median(samples) * 1000:.1f} ms, "
          f"p99 {percentile(samples, 0.99) * 1000:.1f} ms; Firestore calls per delivery: "
          f"median {statistics.median(calls):.0f}, max {max(calls)}")


def crash_window(project: str, run_keys: int = 30) -> None:
    """The one write between a successful publish and the marker saying so."""
    create_trigger_subscription(project)
    orchestrator, _ = make_orchestrator(project, "phase3_to_phase4")
    finish = orchestrator.store.finish_trigger
    windows: list[float] = []

    def timed(*args: object, **kwargs: object) -> None:
        start = time.perf_counter()
        finish(*args, **kwargs)  # type: ignore[arg-type]
        windows.append(time.perf_counter() - start)

    orchestrator.store.finish_trigger = timed  # type: ignore[method-assign]
    for day in range(1, run_keys + 1):
        for i, name in enumerate(PHASE3):
            orchestrator.handle_push(push(completion(name, f"2026-07-{day:02d}"), f"w-{day}-{i}"))
    print(f"  crash window (publish returned -> marker written), {len(windows)} firings: "
          f"p50 {statistics.median(windows) * 1000:.1f} ms, "
          f"max {max(windows) * 1000:.1f} ms")


def outage(sdk: Path, logs: Path) -> None:
    """How long a delivery takes to fail when Firestore is gone."""
    from phasegate.orchestrator.store import StoreUnavailable

    own = Emulator("firestore", sdk).start(logs)
    saved = os.environ["FIRESTORE_EMULATOR_HOST"]
    os.environ["FIRESTORE_EMULATOR_HOST"] = own.host
    try:
        orchestrator, _ = make_orchestrator("bench-outage", "phase2_to_phase3")
        orchestrator.handle_push(push(completion("NbacGamebookProcessor"), "o-0"))
        own.stop()
        samples = []
        for i in range(3):
            start = time.perf_counter()
            try:
                orchestrator.handle_push(push(completion("NbacPlayerBoxscoreProcessor"), f"o{i}"))
            except StoreUnavailable:
                samples.append(time.perf_counter() - start)
        print(f"  Firestore down: a delivery fails after {statistics.median(samples):.1f} s "
              f"(max {max(samples):.1f} s; budget {orchestrator.store.timeout:.0f} s)")
    finally:
        own.stop()
        os.environ["FIRESTORE_EMULATOR_HOST"] = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sequential", type=int, default=200)
    parser.add_argument("--contention-keys", type=int, default=10)
    args = parser.parse_args()
    sdk = sdk_root()
    if sdk is None:
        raise SystemExit("the Google Cloud CLI with its emulator components is needed")
    with tempfile.TemporaryDirectory() as logs:
        firestore = Emulator("firestore", sdk).start(Path(logs))
        pubsub = Emulator("pubsub", sdk).start(Path(logs))
        os.environ["FIRESTORE_EMULATOR_HOST"] = firestore.host
        os.environ["PUBSUB_EMULATOR_HOST"] = pubsub.host
        try:
            print("Firestore calls per delivery:")
            calls_per_delivery("bench-calls")
            sequential("bench-sequential", args.sequential)
            contention("bench-contention", args.contention_keys)
            crash_window("bench-window")
            outage(sdk, Path(logs))
        finally:
            firestore.stop()
            pubsub.stop()


if __name__ == "__main__":
    main()
