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
        lines.append(f"    aliases: [Processor{i:05d}Class, processor_{i:05d}_table]")
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


def time_once(command: list[str], expect: int = 0) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True)
    elapsed = time.perf_counter() - start
    if done.returncode != expect:
        raise SystemExit(f"{command} exited {done.returncode}: {done.stderr.decode()[:500]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    args = parser.parse_args()
    phasegate = [sys.executable, "-m", "phasegate", "validate"]
    reference = "registry/processors.yaml"
    with tempfile.TemporaryDirectory() as directory:
        big = Path(directory) / "processors.yaml"
        big.write_text(synthetic_registry(2000), encoding="utf-8")
        commands: dict[str, list[str]] = {
            "phasegate validate, reference registry": [*phasegate, "--registry", reference],
            f"phasegate validate, 2,000 processors ({big.stat().st_size:,} bytes)":
                [*phasegate, "--registry", str(big)],
            "python -c pass (interpreter start, for scale)": [sys.executable, "-c", "pass"],
        }
        checker = shutil.which("check-jsonschema")
        if checker:
            commands["check-jsonschema --schemafile registry/schema.json, same file"] = [
                checker, "--schemafile", "registry/schema.json", reference]
        for command in commands.values():  # warm the page cache and bytecode
            time_once(command)
        samples: dict[str, list[float]] = {label: [] for label in commands}
        for _ in range(args.runs):  # interleaved, so a noisy moment hits every command
            for label, command in commands.items():
                samples[label].append(time_once(command))
    print(f"{args.runs} interleaved runs each, Python {sys.version.split()[0]}")
    print(f"  {'median':>9} {'min':>9}")
    medians = {label: statistics.median(times) for label, times in samples.items()}
    for label, times in samples.items():
        print(f"  {medians[label] * 1000:6.1f} ms {min(times) * 1000:6.1f} ms  {label}")
    if checker:
        ours = medians["phasegate validate, reference registry"]
        theirs = medians["check-jsonschema --schemafile registry/schema.json, same file"]
        print(f"  median ratio phasegate / check-jsonschema: {ours / theirs:.2f}")


if __name__ == "__main__":
    main()
