"""Time `phasegate validate` over a large source tree, and in the common pre-commit case.

Usage: python benchmarks/bench_scan.py [--files 10000] [--runs 5] [--processes N]

The large case: a 2,000-processor registry whose references.code points at
a synthetic tree of 10,000 Python files of about 200 lines each (about 2
million lines). Two files in a hundred quote registry names (a few of those
hold hard-coded lists), one in five defines a processor's class (all 2,000 are defined). The
pre-commit case: this repository's own registry and tree.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_validate import synthetic_registry  # noqa: E402

REPO = Path(__file__).resolve().parent.parent

FILLER = '''

class Handler{n}{k}:
    """Handle one kind of record."""

    def __init__(self, name: str, size: int = 3) -> None:
        self.name = name
        self.size = size

    def run(self, items: list[str]) -> dict[str, int]:
        result: dict[str, int] = {{}}
        for item in items:
            if item.startswith("x"):
                result[item] = len(item) * self.size
            else:
                result[item] = len(os.path.join("a", item))
        return result
'''


def write_tree(root: Path, files: int) -> int:
    lines = 0
    for n in range(files):
        directory = root / "src" / f"package_{n // 100:03d}"
        directory.mkdir(parents=True, exist_ok=True)
        parts = ["import os\n"]
        parts += [FILLER.format(n=n, k=k) for k in range(11)]
        if n % 50 == 0:
            parts.append(f'\nTABLE = "p2_processor_{n % 500:05d}"\n')
        if n % 500 == 0:
            parts.append(f'\nEXPECTED = ["p2_processor_{n % 500:05d}", '
                         f'"p2_processor_{(n + 1) % 500:05d}"]\n')
        if n % 5 == 1:  # every processor's class is defined somewhere in the tree
            parts.append(f"\n\nclass Processor{n // 5:05d}Class:\n    pass\n")
        text = "".join(parts)
        lines += text.count("\n")
        (directory / f"module_{n:05d}.py").write_text(text)
    return lines


def median_run(command: list[str], runs: int) -> tuple[float, float, str]:
    samples = []
    output = ""
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
        samples.append(time.perf_counter() - start)
        if done.returncode not in (0, 1):
            raise SystemExit(f"{command} exited {done.returncode}: {done.stderr[:500]}")
        output = done.stderr.strip().splitlines()[-1]
    return statistics.median(samples), min(samples), output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    phasegate = [sys.executable, "-m", "phasegate", "validate"]
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "registry").mkdir()
        registry = synthetic_registry(2000) + "references:\n  code: [src]\n"
        (root / "registry" / "processors.yaml").write_text(registry)
        lines = write_tree(root, args.files)
        print(f"tree: {args.files:,} files, {lines:,} lines; registry: 2,000 processors")
        big = median_run([*phasegate, "--root", str(root)], args.runs)
        print(f"  {big[0]:6.2f} s median, {big[1]:6.2f} s min  validate, large tree ({big[2]})")
    small = median_run(phasegate, max(args.runs, 11))
    print(f"  {small[0] * 1000:6.1f} ms median, {small[1] * 1000:6.1f} ms min  validate, this "
          f"repository (pre-commit case: {small[2]})")


if __name__ == "__main__":
    main()
