"""Time `phasegate validate` against check-jsonschema, and on a 2,000-processor registry.

Usage: python benchmarks/bench_validate.py [--runs N]

Every measurement is the wall time of a whole command (interpreter start
included), as a user or a pre-commit hook sees it; the median of N runs.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def synthetic_registry(processors: int) -> str:
    """A valid registry with ``processors`` processors over 4 phases and 3 transitions."""
    lines = ["version: 1", "pipeline: synthetic", "timezone: America/New_York", "scrapers:"]
    scrapers = processors // 4
    for i in range(scrapers):
        lines.append(f"  scraper_{i:05d}: {{enabled: true}}")
    lines.append("processors:")
    per_phase = processors // 4
    for i in range(processors):
        phase = 2 + i // per_phase if i // per_phase < 4 else 5
        name = f"p{phase}_processor_{i:05d}"
        if phase == 2:
            inputs = f"[scraper_{i % scrapers:05d}]"
        else:
            upstream = i - per_phase
            inputs = f"[p{phase - 1}_processor_{upstream:05d}]"
        lines.append(f"  {name}:")
        lines.append(f"    phase: {phase}")
        lines.append(f"    inputs: {inputs}")
        lines.append(f"    aliases: [Processor{i:05d}Class, Processor{i:05d}Table]")
    lines.append("transitions:")
    for phase in (2, 3, 4):
        lines += [
            f"  phase{phase}_to_phase{phase + 1}:",
            f"    from_phase: {phase}",
            f"    to_phase: {phase + 1}",
            f"    collection: phase{phase}_completion",
            "    expects: all",
            f"    required: [p{phase}_processor_{(phase - 2) * per_phase:05d}]",
        ]
    return "\n".join(lines) + "\n"


def median_seconds(command: list[str], runs: int, expect: int = 0) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, capture_output=True)
        samples.append(time.perf_counter() - start)
        if done.returncode != expect:
            raise SystemExit(f"{command} exited {done.returncode}: {done.stderr.decode()[:500]}")
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    phasegate = [sys.executable, "-m", "phasegate", "validate"]
    reference = "registry/processors.yaml"
    results: list[tuple[str, float]] = []
    results.append(("phasegate validate, reference registry",
                    median_seconds([*phasegate, "--registry", reference], args.runs)))
    checker = shutil.which("check-jsonschema")
    if checker:
        results.append(("check-jsonschema --schemafile registry/schema.json, same file",
                        median_seconds([checker, "--schemafile", "registry/schema.json",
                                        reference], args.runs)))
    with tempfile.TemporaryDirectory() as directory:
        big = Path(directory) / "processors.yaml"
        big.write_text(synthetic_registry(2000), encoding="utf-8")
        results.append((f"phasegate validate, 2,000 processors ({big.stat().st_size:,} bytes)",
                        median_seconds([*phasegate, "--registry", str(big)], args.runs)))
    results.append(("python -c pass (interpreter start, for scale)",
                    median_seconds([sys.executable, "-c", "pass"], args.runs)))
    print(f"median of {args.runs} runs, Python {sys.version.split()[0]}")
    for label, seconds in results:
        print(f"  {seconds * 1000:7.1f} ms  {label}")
    if checker:
        print(f"  ratio phasegate / check-jsonschema: {results[0][1] / results[1][1]:.2f}")


if __name__ == "__main__":
    main()
