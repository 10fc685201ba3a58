"""Time `phasegate validate` on the adoption fixture scaled to a real repository's size.

Usage: python benchmarks/bench_adoption.py [--files 2000] [--runs 11]

tests/fixtures/adoption-repo/ is a pipeline repository of 29 Python files
holding every drift phasegate finds and every pattern that only looks like
drift (routing tables, `__all__`, dependency levels, False maps, a disabled
processor's own module, Cloud Functions whose `shared/` is a symlink, an
excluded MLB package). This script copies it and replicates its Python files
until the tree holds `--files` of them: each Cloud Function folder is copied
under a new name (with its own `shared` symlink), every other module is
copied beside itself under a new name, so the proportions of the patterns
stay those of the fixture (and so does the share of files that quote
registry names: all of them, the expensive case). The registry and the
referenced config file are the fixture's own.

A second tree of the same size models how rare the patterns are in a real
repository: `--share` of its files (default 0.1) are fixture copies, the rest
plain modules that quote no registry name (read and pre-checked, never parsed).

Measured: the first `phasegate validate` after writing a tree (cold: a fresh
interpreter, the tree just written), then the median and minimum of `--runs`
further runs (warm), each a new subprocess as a pre-commit hook runs it; and
the fixture itself, for scale. Goal: warm under 0.5 s at 2,000 files.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURE = REPO / "tests" / "fixtures" / "adoption-repo"
FUNCTIONS = Path("orchestration") / "cloud_functions"


def fixture_sources() -> list[Path]:
    """The fixture's Python files (relative), the generated module aside; the functions'
    ``shared`` symlinks are not walked (as phasegate does not)."""
    found = []
    for directory, subdirs, names in os.walk(FIXTURE):
        subdirs.sort()
        for name in sorted(names):
            relative = (Path(directory) / name).relative_to(FIXTURE)
            if name.endswith(".py") and relative.parts[0] != "orchestrator":
                found.append(relative)
    return found


def variant(relative: Path, copy: int) -> Path:
    """Where copy number ``copy`` of a fixture file goes: a new function folder, or a new
    module name beside the original."""
    parts = relative.parts
    if relative.is_relative_to(FUNCTIONS):
        function = f"{parts[2]}_v{copy:03d}"
        return Path(*parts[:2], function, *parts[3:])
    stem = "exports" if relative.stem == "__init__" else relative.stem
    return relative.with_name(f"{stem}_v{copy:03d}{relative.suffix}")


PLAIN = '''"""Helpers for the {area} jobs (no registry names here)."""

import datetime
import logging

LOG = logging.getLogger(__name__)


class {kind}Helper{n}:
    """Retry and batch settings for one kind of job."""

    def __init__(self, attempts: int = 3, batch: int = 500) -> None:
        self.attempts = attempts
        self.batch = batch

    def batches(self, rows: list[dict]) -> list[list[dict]]:
        return [rows[i:i + self.batch] for i in range(0, len(rows), self.batch)]

    def window(self, day: datetime.date, days: int = 7) -> list[str]:
        return [(day - datetime.timedelta(days=n)).isoformat() for n in range(days)]

    def run(self, rows: list[dict]) -> int:
        done = 0
        for batch in self.batches(rows):
            for attempt in range(self.attempts):
                try:
                    done += len(batch)
                    break
                except OSError:
                    LOG.warning("attempt %d failed", attempt)
        return done
'''
PLAIN_AREAS = ("data_processors/common", "scrapers/utils", "bin/tools", "monitoring/checks")


def write_tree(root: Path, files: int, share: float = 1.0) -> int:
    """The fixture, plus copies of its Python files until ``share`` of ``files`` are fixture
    files, and plain modules for the rest; the number of Python files."""
    shutil.copytree(FIXTURE, root, symlinks=True)
    sources = fixture_sources()
    count = len(sources)
    plain = max(0, files - max(count, round(files * share)))
    for n in range(plain):
        area = PLAIN_AREAS[n % len(PLAIN_AREAS)]
        target = root / area / f"part_{n // 100:02d}" / f"helpers_{n:04d}.py"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(PLAIN.format(area=area.split("/")[-1], kind="Batch", n=n))
    count += plain
    copy = 1
    while count < files:
        for relative in sources:
            if count >= files:
                break
            target = root / variant(relative, copy)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(FIXTURE / relative, target)
            count += 1
            if relative.is_relative_to(FUNCTIONS) and relative.name == "main.py":
                link = target.parent / "shared"
                if not link.exists():
                    os.symlink("../../../shared", link)
        copy += 1
    return count


def timed(command: list[str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Wall time, and CPU time (user + system, the scanning pool's workers included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{command} exited {done.returncode}: {done.stderr[:500]}")
    return elapsed, cpu, done


def runs(command: list[str], count: int) -> tuple[float, float, float]:
    """Median and minimum wall time, and median CPU time, of ``count`` runs."""
    samples = [timed(command)[:2] for _ in range(count)]
    walls = [wall for wall, _ in samples]
    return (statistics.median(walls), min(walls),
            statistics.median(cpu for _, cpu in samples))


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--share", type=float, default=0.1,
                        help="share of fixture copies in the second tree (default 0.1)")
    args = parser.parse_args()
    validate = [sys.executable, "-m", "phasegate", "validate", "--root"]
    rows: list[tuple[str, ...]] = []
    warm_all = 0.0
    for share, label in ((1.0, "all fixture copies"),
                         (args.share, f"{args.share:.0%} fixture copies")):
        with tempfile.TemporaryDirectory() as directory:
            root = Path(directory) / "repo"
            files = write_tree(root, args.files, share)
            links = sum(1 for p in (root / FUNCTIONS).iterdir() if (p / "shared").is_symlink())
            cold, cold_cpu, done = timed([*validate, str(root)])
            findings = len(done.stdout.splitlines())
            summary = done.stderr.strip().splitlines()[-1].removeprefix("phasegate: ")
            warm = runs([*validate, str(root)], args.runs)
            warm_all = warm_all or warm[0]
            print(f"tree ({label}): {files:,} Python files, {links} Cloud Function folders "
                  f"with a shared/ symlink; {findings} findings ({summary})")
            rows.append((f"{files:,} files, {label}: cold (first run after writing the tree)",
                         _ms(cold), "", _ms(cold_cpu)))
            rows.append((f"{files:,} files, {label}: warm ({args.runs} runs)",
                         _ms(warm[0]), _ms(warm[1]), _ms(warm[2])))
    small = runs([*validate, str(FIXTURE)], args.runs)
    python = runs([sys.executable, "-c", "pass"], args.runs)
    rows.append((f"the fixture itself ({len(fixture_sources())} Python files), warm",
                 _ms(small[0]), _ms(small[1]), _ms(small[2])))
    rows.append(("`python -c pass` (interpreter start, for scale)",
                 _ms(python[0]), _ms(python[1]), _ms(python[2])))
    print()
    print("| case | wall, median | wall, min | CPU, median |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    verdict = "met" if warm_all < 0.5 else "NOT met"
    print(f"\nwarm median, all fixture copies: {warm_all:.3f} s: goal under 0.5 s {verdict} "
          f"(load average {load:.2f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
