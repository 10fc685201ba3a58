"""Cold import of the deployable functions and the size of the wheel.

    python benchmarks/bench_deployable.py [--runs 11]

Each sample is a new interpreter that imports ``orchestrator/main.py`` (or
``canary/main.py``) by path, as functions-framework does: the handler
factory, the generated expectations beside it and functions-framework
itself, but no Google client (those load on the first delivery).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

IMPORT = """\
import importlib.util, sys, time
t = time.perf_counter()
spec = importlib.util.spec_from_file_location("main", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
elapsed = time.perf_counter() - t
clients = ("google.cloud.firestore", "google.cloud.pubsub")
loaded = sorted(m for m in sys.modules if m.startswith(clients))
print(elapsed, len(loaded))
"""

FIRST_DELIVERY = IMPORT.replace(
    "elapsed = time.perf_counter() - t",
    "from google.cloud import firestore, pubsub_v1\nelapsed = time.perf_counter() - t")


def cold(path: Path, code: str, runs: int) -> tuple[list[float], int]:
    env = {"PHASEGATE_TRANSITION": "phase3_to_phase4", "NO_GCE_CHECK": "True",
           "PATH": "/usr/bin:/bin"}
    samples, clients = [], 0
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code, str(path)], cwd=REPO, env=env,
                             check=True, capture_output=True, text=True).stdout.split()
        samples.append(float(out[0]))
        clients = int(out[1])
    return samples, clients


def wheel_size() -> tuple[str, int, int]:
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                        "--quiet", "-w", out, str(REPO)], check=True)
        [wheel] = Path(out).glob("*.whl")
        import zipfile

        files = len(zipfile.ZipFile(wheel).namelist())
        return wheel.name, wheel.stat().st_size, files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    args = parser.parse_args()
    for folder in ("orchestrator", "canary"):
        path = REPO / folder / "main.py"
        samples, clients = cold(path, IMPORT, args.runs)
        first, _ = cold(path, FIRST_DELIVERY, 5)
        print(f"{folder}/main.py cold import: median {statistics.median(samples) * 1000:.0f} ms "
              f"(min {min(samples) * 1000:.0f} ms, Firestore or Pub/Sub modules loaded: "
              f"{clients}); "
              f"plus the Google clients of the first delivery: "
              f"{statistics.median(first) * 1000:.0f} ms")
    name, size, files = wheel_size()
    print(f"{name}: {size / 1024:.0f} KiB, {files} files")


if __name__ == "__main__":
    main()
