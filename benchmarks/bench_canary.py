"""Firestore calls and wall time of one canary run: 10 transitions, 7-day lookback.

Usage: python benchmarks/bench_canary.py [--transitions 10] [--lookback 7] [--runs 5]

Starts the Firestore emulator, writes a completion document for every
transition and run key (half of them LATE), and times whole runs of the
canary after the first (which opens the incidents).
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import io
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from phasegate.canary.evaluate import Settings, run_keys  # noqa: E402
from phasegate.canary.run import run_once  # noqa: E402
from phasegate.canary.store import CanaryStore  # noqa: E402
from tests.emulators import Emulator, sdk_root  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transitions", type=int, default=10)
    parser.add_argument("--lookback", type=int, default=7)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    base = json.loads((REPO / "canary" / "expected.json").read_text())
    template = base["transitions"]["phase2_to_phase3"]
    data = copy.deepcopy(base)
    data["transitions"] = {f"t{i:02d}": {**template, "collection": f"c{i:02d}"}
                           for i in range(args.transitions)}
    data["canary"].update(lookback_days=args.lookback, notify=[{"log": {}}])
    settings = Settings(data)
    now = dt.datetime(2026, 2, 20, 15, 0, tzinfo=dt.UTC)
    sdk = sdk_root()
    if sdk is None:
        raise SystemExit("the Google Cloud CLI with the Firestore emulator is needed")
    from google.cloud import firestore

    with tempfile.TemporaryDirectory() as logs:
        emulator = Emulator("firestore", sdk).start(Path(logs))
        os.environ["FIRESTORE_EMULATOR_HOST"] = emulator.host
        try:
            client = firestore.Client(project="bench-canary")
            first = now - dt.timedelta(hours=10)
            batch = client.batch()
            keys = run_keys(now, settings)
            for i in range(args.transitions):
                for n, key in enumerate(keys):
                    names = template["expected"] if n % 2 else template["expected"][:-1]
                    body = {name: {"status": "success", "completed_at": first}
                            for name in names}
                    body["_first_completion_at"] = first
                    batch.set(client.collection(f"c{i:02d}").document(key), body)
            batch.commit()
            store = CanaryStore(client, pipeline="bench")
            opening = run_once(store, settings, now, stream=io.StringIO())
            print(f"{args.transitions} transitions x {len(keys)} run keys = "
                  f"{len(opening.checks)} checks; first run opened "
                  f"{sum(d.notification.kind == 'open' for d in opening.deliveries)} incidents "
                  f"with {sum(opening.calls.values())} Firestore calls {opening.calls}")
            samples, calls = [], []
            for _ in range(args.runs):
                store = CanaryStore(client, pipeline="bench")
                start = time.perf_counter()
                result = run_once(store, settings, now + dt.timedelta(minutes=15),
                                  stream=io.StringIO())
                samples.append(time.perf_counter() - start)
                calls.append(result.calls)
            print(f"steady-state run: median {statistics.median(samples) * 1000:.0f} ms, "
                  f"max {max(samples) * 1000:.0f} ms; Firestore calls {calls[0]}")
        finally:
            emulator.stop()


if __name__ == "__main__":
    main()
