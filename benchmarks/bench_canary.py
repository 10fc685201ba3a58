"""Firestore calls and wall time of one canary run: 10 transitions, 7-day lookback, 14-day learning.

Usage: python benchmarks/bench_canary.py [--transitions 10] [--lookback 7] [--learn-days 14]
           [--silent-run-keys 2] [--runs 11] [--profile 25]

Starts the Firestore emulator and writes, for every transition:

- a completion document for every run key of the lookback (half of them LATE,
  one expected processor missing; half STUCK-ish, all complete and not fired),
  as before the early rules existed;
- a history document for every earlier run key the canary reads
  (``history_keys``: the days ``canary.early`` learns from), as the orchestrator
  writes them: every expected processor completed, at a jittered offset from
  ``_first_completion_at``; a few nights have no document at all (no games),
  the same nights for every transition. Seeded: every run writes the same data.

Then it runs the canary once (which opens the incidents) and times whole
steady-state runs of it. ``--learn-days 0 --silent-run-keys 0`` turns the
early rules off, so the canary reads the lookback only: the measurement made
before they existed. ``--profile N`` profiles the steady-state runs (cProfile)
afterwards and prints the N costliest functions.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.copies import with_copies  # noqa: E402
from phasegate.canary.evaluate import Settings, history_keys, run_keys  # noqa: E402
from phasegate.canary.run import run_once  # noqa: E402
from phasegate.canary.store import CanaryStore  # noqa: E402
from tests.emulators import Emulator, sdk_root  # noqa: E402

SEED = 15  # issue 15
# a processor's usual offset from the run key's first completion, in minutes, by its place in
# the expected list (the first to complete starts the clock); jitter is added to each
USUAL_MINUTES = (0, 12, 25, 40, 70, 95, 120, 150)
JITTER_MINUTES = 10
NIGHTS_WITHOUT_GAMES = 1 / 7  # about one night a week has no document


class MeasuredStore(CanaryStore):
    """The canary's store, also noting what its batched get read and how long it took."""

    def read_documents(self, wanted: Any) -> dict[tuple[str, str], dict[str, Any] | None]:
        start = time.perf_counter()
        found = super().read_documents(wanted)
        self.read_seconds = time.perf_counter() - start
        self.requested = len(found)
        self.existing = sum(document is not None for document in found.values())
        return found

    def read_incidents(self) -> dict[str, tuple[dict[str, Any], Any]]:
        found = super().read_incidents()
        self.incidents = len(found)
        return found


def history_document(spec: dict[str, Any], run_key: str, zone: ZoneInfo, rng: random.Random,
                     ) -> dict[str, Any]:
    """A finished night as the orchestrator records it: every expected processor completed."""
    day = dt.date.fromisoformat(run_key)
    # the night's games end after local midnight: the first completion about 02:00 local
    first = (dt.datetime.combine(day + dt.timedelta(days=1), dt.time(2), tzinfo=zone)
             + dt.timedelta(minutes=rng.uniform(-30, 30))).astimezone(dt.UTC)
    expected = list(spec["expected"])
    body: dict[str, Any] = {}
    last = first
    for place, name in enumerate(expected):
        usual = USUAL_MINUTES[place % len(USUAL_MINUTES)]
        offset = 0.0 if place == 0 else max(0.0, usual + rng.uniform(-JITTER_MINUTES,
                                                                      JITTER_MINUTES))
        when = first + dt.timedelta(minutes=offset, seconds=rng.uniform(0, 1))
        last = max(last, when)
        body[name] = {
            "completed_at": when, "recorded_at": when, "status": "success",
            "received_as": name, "correlation_id": f"{run_key}-{place}",
            "execution_id": f"exec-{rng.getrandbits(48):012x}",
            "record_count": rng.randint(200, 5000), "output_table": f"nba.{name}",
            "reported_at": when - dt.timedelta(seconds=rng.uniform(0.5, 3)),
            "message_id": str(rng.getrandbits(52)),
        }
    body.update({
        "_first_completion_at": first, "_last_completion_at": last,
        "_expected": sorted(expected), "_mode": None,
        "_transition_digest": spec["digest"],
    })
    return body


def write_documents(client: Any, data: dict[str, Any], settings: Settings, now: dt.datetime,
                    ) -> tuple[list[str], list[str], list[str]]:
    """Lookback and history documents for every transition; returns (lookback run keys,
    history run keys with a document, history run keys without one)."""
    rng = random.Random(SEED)
    zone = settings.zone
    keys = run_keys(now, settings)
    history = [key for key in history_keys(now, settings) if key not in keys]
    quiet_nights = sorted(rng.sample(history, round(len(history) * NIGHTS_WITHOUT_GAMES)))
    nights = [key for key in history if key not in quiet_nights]
    registry_digest = data["registry_digest"]
    first = now - dt.timedelta(hours=10)
    writes = []
    for spec in data["transitions"].values():
        template = spec["expected"]
        for n, key in enumerate(keys):
            names = template if n % 2 else template[:-1]
            body: dict[str, Any] = {name: {"status": "success", "completed_at": first}
                                    for name in names}
            body["_first_completion_at"] = first
            writes.append((spec["collection"], key, body))
        for key in nights:
            body = history_document(spec, key, zone, rng)
            body["_registry_digest"] = registry_digest
            writes.append((spec["collection"], key, body))
    for start in range(0, len(writes), 400):  # a commit holds at most 500 writes
        batch = client.batch()
        for collection, key, body in writes[start:start + 400]:
            batch.set(client.collection(collection).document(key), body)
        batch.commit()
    return keys, nights, quiet_nights


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transitions", type=int, default=10)
    parser.add_argument("--lookback", type=int, default=7)
    parser.add_argument("--learn-days", type=int, default=14,
                        help="canary.early.learn_days (0: the learned rule is off)")
    parser.add_argument("--silent-run-keys", type=int, default=2,
                        help="canary.early.silent_run_keys (0: the silence rule is off)")
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="then profile the steady-state runs; print the N costliest")
    args = parser.parse_args()
    data, template = with_copies(args.transitions)
    early = {**data["canary"].get("early", {}), "learn_days": args.learn_days,
             "silent_run_keys": args.silent_run_keys}
    data["canary"].update(lookback_days=args.lookback, notify=[{"log": {}}], early=early)
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
            keys, nights, quiet_nights = write_documents(client, data, settings, now)
            read = history_keys(now, settings)
            print(f"canary.early: learn_days {args.learn_days}, silent_run_keys "
                  f"{args.silent_run_keys}; lookback {args.lookback} days")
            print(f"run keys read per transition: {len(read)} ({read[0]} .. {read[-1]}): "
                  f"{len(keys)} evaluated (lookback through tomorrow), {len(nights)} earlier "
                  f"with a history document, {len(quiet_nights)} nights without one "
                  f"({', '.join(quiet_nights) or 'none'})")
            store = MeasuredStore(client, pipeline="bench")
            opening = run_once(store, settings, now, stream=io.StringIO())
            print(f"{args.transitions} transitions x {len(keys)} run keys = "
                  f"{len(opening.checks)} checks; first run opened "
                  f"{sum(d.notification.kind == 'open' for d in opening.deliveries)} incidents "
                  f"with {sum(opening.calls.values())} Firestore calls {opening.calls}")
            states = Counter(f"{c.state}{' (alerting)' if c.alerting else ''}"
                             f"{' early' if any(m.early for m in c.missing) else ''}"
                             for c in opening.checks)
            print(f"first run's checks ('early': an early rule names a missing processor): "
                  f"{dict(sorted(states.items()))}"
                  f"{f'; errors: {opening.errors}' if opening.errors else ''}")
            later = now + dt.timedelta(minutes=15)
            samples, reads, calls = [], [], []
            for _ in range(args.runs):
                store = MeasuredStore(client, pipeline="bench")
                start = time.perf_counter()
                result = run_once(store, settings, later, stream=io.StringIO())
                samples.append(time.perf_counter() - start)
                reads.append(store.read_seconds)
                calls.append(result.calls)
            print(f"each run: the batched get asks for {store.requested} documents and reads "
                  f"{store.existing} ({args.transitions} transitions x {len(read)} run keys); "
                  f"the incidents query reads {store.incidents}")
            steady = all(c == {"reads": 2, "commits": 1} for c in calls)
            print(f"steady-state run ({args.runs} runs): median "
                  f"{statistics.median(samples) * 1000:.0f} ms, max {max(samples) * 1000:.0f} ms, "
                  f"min {min(samples) * 1000:.0f} ms; of it the batched get: median "
                  f"{statistics.median(reads) * 1000:.0f} ms; Firestore calls {calls[0]}"
                  f"{'' if steady else f' NOT 2 reads, 1 commit in every run: {calls}'}")
            if args.profile:
                profile(client, settings, later, args.runs, args.profile)
        finally:
            emulator.stop()


def profile(client: Any, settings: Settings, now: dt.datetime, runs: int, top: int) -> None:
    """cProfile over ``runs`` steady-state runs: the costliest functions, per run."""
    profiler = cProfile.Profile()
    for _ in range(runs):
        store = CanaryStore(client, pipeline="bench")
        profiler.enable()
        run_once(store, settings, now, stream=io.StringIO())
        profiler.disable()
    stats = pstats.Stats(profiler)
    print(f"\nprofile of {runs} steady-state runs (times per run; cProfile inflates them):")
    rows = []
    for (path, line, name), (_, calls, own, total, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append((total / runs, own / runs, calls // runs, f"{Path(path).name}:{line}({name})"))
    print(f"{'cumulative':>11} {'own':>9} {'calls':>8}  function")
    for total, own, calls, where in sorted(rows, reverse=True)[:top]:
        print(f"{total * 1000:8.1f} ms {own * 1000:6.1f} ms {calls:8d}  {where}")
    print(f"\nby own time:\n{'own':>9} {'cumulative':>11} {'calls':>8}  function")
    for total, own, calls, where in sorted(rows, key=lambda r: r[1], reverse=True)[:top]:
        print(f"{own * 1000:6.1f} ms {total * 1000:8.1f} ms {calls:8d}  {where}")


if __name__ == "__main__":
    main()
