"""Firestore calls and wall time of ``phasegate status --days 7`` over 10 transitions.

Usage: python benchmarks/bench_status.py [--transitions 10] [--days 7] [--runs 21] [--cli 5]

Starts the Firestore emulator and writes, for every transition, a document
for each shown run key (today - days through tomorrow: LATE, STUCK, fired,
none) and for each earlier night the early rules learn from
(``canary.early``: 14 days by default), as the orchestrator writes them.
Then it times, in process, what ``status`` does after parsing its arguments:
the one batched read, the canary's evaluation of every cell, and rendering
(text, JSON, HTML), counting the Firestore calls (the store's, and the
client's ``get_all`` RPCs). ``--cli N`` also times N whole commands on the
reference registry (two transitions), interpreter start and imports included.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from benchmarks.copies import with_copies  # noqa: E402
from phasegate.canary.evaluate import Settings  # noqa: E402
from phasegate.status.command import Style, render  # noqa: E402
from phasegate.status.grid import View, build_grid, read_keys, shown_keys  # noqa: E402
from phasegate.status.read import read_grid  # noqa: E402
from tests.emulators import Emulator, sdk_root  # noqa: E402

SEED = 16  # issue 16
NOW = dt.datetime(2026, 2, 20, 15, 0, tzinfo=dt.UTC)


class CountingClient:
    """A Firestore client that counts the RPCs a status read makes."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.get_all_calls = 0
        self.documents_asked = 0

    def get_all(self, references: Any, **kwargs: Any) -> Any:
        references = list(references)
        self.get_all_calls += 1
        self.documents_asked += len(references)
        return self.client.get_all(references, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def night(names: list[str], first: dt.datetime, rng: random.Random, *, missing: int = 0,
          fired: bool = True) -> dict[str, Any]:
    """One run key's document: ``names`` completed minutes apart (the last ``missing`` not)."""
    body: dict[str, Any] = {}
    for place, name in enumerate(names[: len(names) - missing]):
        when = first + dt.timedelta(minutes=place * 12 + rng.uniform(0, 8))
        body[name] = {"status": "success", "completed_at": when, "recorded_at": when,
                      "record_count": rng.randint(200, 5000)}
    body["_first_completion_at"] = first
    if fired and not missing:
        body.update(_triggered=True, _triggered_at=first + dt.timedelta(hours=2),
                    _trigger_reason="all_complete")
    return body


def write_documents(client: Any, settings: Settings, days: int) -> int:
    rng = random.Random(SEED)
    zone = ZoneInfo(settings.expectations["timezone"])
    today = NOW.astimezone(zone).date()
    shown = shown_keys(today, days)
    writes = []
    for spec in settings.expectations["transitions"].values():
        names = list(spec["expected"])
        for key in read_keys(today, settings, days):
            day = dt.date.fromisoformat(key)
            first = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(1), tzinfo=zone)
            if day >= today:
                continue  # tonight's games have not finished: no document yet
            if key in shown[-4:-2]:  # the last two nights: one LATE, one STUCK
                late = key == shown[-3]
                body = night(names, first.astimezone(dt.UTC) - dt.timedelta(days=1), rng,
                             missing=1 if late else 0, fired=False)
            elif rng.random() < 1 / 7:
                continue  # a night without games
            else:
                body = night(names, first.astimezone(dt.UTC), rng)
            writes.append((spec["collection"], key, body))
    for start in range(0, len(writes), 400):
        batch = client.batch()
        for collection, key, body in writes[start:start + 400]:
            batch.set(client.collection(collection).document(key), body)
        batch.commit()
    return len(writes)


def cli_runs(host: str, runs: int) -> list[float]:
    """Whole ``phasegate status --days 7 --format json`` commands on the reference registry."""
    env = {**os.environ, "FIRESTORE_EMULATOR_HOST": host, "NO_GCE_CHECK": "True",
           "GOOGLE_CLOUD_PROJECT": "bench-status-cli"}
    env.pop("PHASEGATE_REGISTRY", None)
    samples = []
    for _ in range(runs + 1):  # the first writes bytecode caches: not counted
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "phasegate", "status", "--days", "7",
                               "--format", "json"], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=120)
        samples.append(time.perf_counter() - start)
        if done.returncode not in (0, 1):
            raise SystemExit(f"status failed ({done.returncode}): {done.stderr}")
    return samples[1:]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transitions", type=int, default=10)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--cli", type=int, default=5, metavar="N",
                        help="also time N whole commands (0: none)")
    args = parser.parse_args()
    data, _ = with_copies(args.transitions)
    settings = Settings(data, frozenset(data["calendar"]))
    sdk = sdk_root()
    if sdk is None:
        raise SystemExit("the Google Cloud CLI with the Firestore emulator is needed")
    from google.cloud import firestore

    with tempfile.TemporaryDirectory() as logs:
        emulator = Emulator("firestore", sdk).start(Path(logs))
        os.environ["FIRESTORE_EMULATOR_HOST"] = emulator.host
        os.environ["NO_GCE_CHECK"] = "True"
        try:
            client = firestore.Client(project="bench-status")
            written = write_documents(client, settings, args.days)
            view = View.of(settings, NOW)
            wanted = view.wanted(args.days)
            print(f"{args.transitions} transitions, --days {args.days}: "
                  f"{len(view.wanted(args.days)) // args.transitions} run keys read per "
                  f"transition ({args.days + 2} shown, the rest the early rules' learning "
                  f"window); {len(wanted)} documents asked for, {written} exist")
            read_grid(settings, NOW, args.days, client=client)  # warm the channel
            reads, texts, jsons, htmls, calls = [], [], [], [], []
            grid = None
            for _ in range(args.runs):
                counting = CountingClient(client)
                start = time.perf_counter()
                grid = read_grid(settings, NOW, args.days, client=counting)
                read_done = time.perf_counter()
                render(grid, "text", Style())
                text_done = time.perf_counter()
                render(grid, "json")
                json_done = time.perf_counter()
                render(grid, "html")
                html_done = time.perf_counter()
                reads.append(read_done - start)
                texts.append(text_done - start)
                jsons.append(json_done - text_done + read_done - start)
                htmls.append(html_done - json_done + read_done - start)
                calls.append((dict(grid.calls), counting.get_all_calls, counting.documents_asked))
            assert grid is not None and grid.error is None, grid and grid.error
            states: dict[str, int] = {}
            for row in grid.rows:
                for cell in row.cells:
                    states[cell.state] = states.get(cell.state, 0) + 1
            print(f"cells: {len(grid.rows)} x {len(grid.run_keys)} = "
                  f"{sum(states.values())}: {dict(sorted(states.items()))}")
            one = all(c == ({"reads": 1}, 1, len(wanted)) for c in calls)
            print(f"Firestore calls per status: store {calls[0][0]}, client get_all RPCs "
                  f"{calls[0][1]} for {calls[0][2]} documents"
                  f"{'' if one else f'  NOT ONE BATCHED READ IN EVERY RUN: {calls}'}")

            def line(label: str, samples: list[float]) -> str:
                return (f"{label:36s} median {statistics.median(samples) * 1000:6.1f} ms, "
                        f"max {max(samples) * 1000:6.1f} ms, min {min(samples) * 1000:6.1f} ms")

            documents = {(c, k): None for c, k in wanted}
            for snapshot in client.get_all([client.collection(c).document(k) for c, k in wanted]):
                if snapshot.exists:
                    documents[(snapshot.reference.parent.id, snapshot.id)] = snapshot.to_dict()
            evaluations = []
            for _ in range(args.runs):
                start = time.perf_counter()
                build_grid(View.of(settings, NOW), documents, NOW, args.days)
                evaluations.append(time.perf_counter() - start)
            print(f"in process, {args.runs} runs (goal: under 500 ms):")
            print(line("  evaluate only (documents in hand)", evaluations))
            print(line("  read + evaluate", reads))
            print(line("  read + evaluate + text", texts))
            print(line("  read + evaluate + json", jsons))
            print(line("  read + evaluate + html", htmls))
            if args.cli:
                base = json.loads((REPO / "canary" / "expected.json").read_text())
                reference = Settings(base, frozenset(base["calendar"]))
                write_documents(firestore.Client(project="bench-status-cli"), reference,
                                args.days)
                samples = cli_runs(emulator.host, args.cli)
                print(f"whole command, reference registry (2 transitions), {args.cli} runs:")
                print(line("  python -m phasegate status", samples))
        finally:
            emulator.stop()


if __name__ == "__main__":
    main()
