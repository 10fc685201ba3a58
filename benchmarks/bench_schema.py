"""Schema check: the hand-written evaluator against fastjsonschema and jsonschema.

Usage: python benchmarks/bench_schema.py [--runs N]

Two parts:

1. Correctness. The reference registry and variants of it, each loaded the way
   ``phasegate validate`` loads it (``yaml_loader.load_text``), are judged by
   pydantic (``schema_models.Registry``, the source of truth), by the
   hand-written ``schema_check.conforms`` (and its schema part alone), and by
   fastjsonschema and jsonschema on ``phasegate/registry/schema.json`` (alone,
   and followed by the hand-written ``_constraints_hold``, as a replacement would
   need). YAML dates are ``datetime.date``, which no JSON Schema library calls a
   string, so the libraries get a copy of the data with dates as ISO strings
   (what check-jsonschema does); without it both reject the reference registry.

2. Speed. Every sample is a fresh interpreter (interleaved round-robin after a
   warm-up run of each, median of N). Each child loads the reference registry
   first (not timed, common to all) and then times, in-process: importing the
   checker, building it from the schema, and the first check of the data.
   Children run with bytecode cached under a temporary PYTHONPYCACHEPREFIX (as
   an installed wheel has it) so that nothing is compiled from source on the
   timed path. The whole ``python -m phasegate validate --root <repo>`` is timed
   as a subprocess, both in the environment as it is and with that cache.

fastjsonschema is compiled with ``use_default=False``: by default its validator
writes schema defaults into the data it checks. ``fastjsonschema.compile`` also
rewrites the ``$ref`` values of the schema dict it is given (it is passed a
copy here).
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import inspect
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
REGISTRY = REPO / "registry" / "processors.yaml"
SCHEMA = REPO / "phasegate" / "registry" / "schema.json"

# --------------------------------------------------------------------------- correctness

# (label, old text, new text): each replaces exactly one piece of the reference registry.
VARIANTS: list[tuple[str, str, str]] = [
    ("reference registry (valid)", "", ""),
    ("unknown field in a processor",
     "    aliases: [NbacGamebookProcessor]\n",
     "    aliases: [NbacGamebookProcessor]\n    colour: red\n"),
    ("wrong type: phase: \"2\"",
     "  p2_nbacom_gamebook_pdf:\n    phase: 2\n",
     "  p2_nbacom_gamebook_pdf:\n    phase: \"2\"\n"),
    ("renotify_hours: .inf",
     "  renotify_hours: 6\n", "  renotify_hours: .inf\n"),
    ("renotify_hours: .nan",
     "  renotify_hours: 6\n", "  renotify_hours: .nan\n"),
    ("processor name with a trailing newline (\"p2_x\\n\")",
     "  p2_nbacom_gamebook_pdf:\n", "  \"p2_nbacom_gamebook_pdf\\n\":\n"),
    ("topic with a trailing newline (trigger_topic pattern)",
     "    trigger_topic: nba-phase4-trigger\n",
     "    trigger_topic: \"nba-phase4-trigger\\n\"\n"),
    ("integer written as float: phase: 2.0",
     "  p2_nbacom_gamebook_pdf:\n    phase: 2\n",
     "  p2_nbacom_gamebook_pdf:\n    phase: 2.0\n"),
    ("boolean for an integer: lookback_days: true",
     "  lookback_days: 3\n", "  lookback_days: true\n"),
    ("boolean for const 1: version: true",
     "version: 1\n", "version: true\n"),
    ("quoted date: from: \"2026-02-13\"",
     "{from: 2026-02-13,", "{from: \"2026-02-13\","),
    ("unquoted date where text is expected: reason",
     "reason: All-Star break}", "reason: 2026-02-20}"),
    ("integer key: processors: {123: ...}",
     "  p2_nbacom_gamebook_pdf:\n", "  123:\n"),
    ("cross-field: quiet period ends before it starts",
     "{from: 2026-02-13, to: 2026-02-18,", "{from: 2026-02-18, to: 2026-02-13,"),
    ("cross-field: unknown timezone",
     "timezone: America/New_York\n", "timezone: America/New_Yrok\n"),
    ("cross-field: action trigger without trigger_topic",
     "    trigger_topic: nba-phase4-trigger\n", ""),
    ("cross-field: two modes with the same when",
     "        when: tomorrow\n", "        when: today\n"),
    ("cross-field: invalid cron schedule",
     "  schedule: \"*/15 * * * *\"\n", "  schedule: \"*/15 * * *\"\n"),
]


def dates_as_text(value: Any) -> Any:
    """A copy with ``datetime.date`` values as ISO text, as a JSON document would have them."""
    if isinstance(value, dict):
        return {k: dates_as_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [dates_as_text(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def correctness() -> list[tuple[str, dict[str, str]]]:
    import fastjsonschema
    import jsonschema
    from pydantic import ValidationError

    from phasegate.registry import schema_check, schema_models
    from phasegate.registry.yaml_loader import load_text

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    fjs = fastjsonschema.compile(copy.deepcopy(schema), use_default=False)
    jsv = jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    reference = REGISTRY.read_text(encoding="utf-8")

    def pydantic(data: Any) -> bool:
        try:
            schema_models.Registry.model_validate(data)
        except ValidationError:
            return False
        return True

    def fast(data: Any) -> bool:
        try:
            fjs(data)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    def verdict(judge: Any, data: Any) -> str:
        try:
            return "valid" if judge(data) else "invalid"
        except Exception as error:  # noqa: BLE001 - a crash is a verdict too
            return f"crash ({type(error).__name__})"

    def then_constraints(judge: Any) -> Any:
        def both(data: Any) -> bool:
            return judge(dates_as_text(data)) and schema_check._constraints_hold(data)
        return both

    judges = {
        "pydantic": pydantic,
        "hand": schema_check.conforms,
        "hand schema only": lambda d: schema_check._compiled()(d),
        "fastjsonschema": lambda d: fast(dates_as_text(d)),
        "jsonschema": lambda d: jsv.is_valid(dates_as_text(d)),
        "fastjsonschema + constraints": then_constraints(fast),
        "jsonschema + constraints": then_constraints(jsv.is_valid),
    }
    rows = []
    for label, old, new in VARIANTS:
        if old:
            assert reference.count(old) == 1, label
        text = reference.replace(old, new) if old else reference
        document = load_text(text, "variant.yaml")
        assert not document.problems, (label, document.problems)
        rows.append((label, {name: verdict(judge, document.data)
                             for name, judge in judges.items()}))
    raw = load_text(reference).data
    rows.append(("reference registry, dates left as datetime.date", {
        "fastjsonschema": verdict(fast, raw),
        "jsonschema": verdict(jsv.is_valid, raw),
    }))
    return rows


# --------------------------------------------------------------------------- speed

PRELUDE = f"""
import json, sys, time
from pathlib import Path
from typing import Any
from phasegate.registry.yaml_loader import load_file
data = load_file(Path(sys.argv[1])).data
GENERATED = sys.argv[2]
SCHEMA = Path({str(SCHEMA)!r})
import datetime as dt
{textwrap.dedent(inspect.getsource(dates_as_text))}
pc = time.perf_counter
"""

CHILDREN: dict[str, str] = {
    "hand-written schema_check": """
t0 = pc()
from phasegate.registry import schema_check
t1 = pc()
check = schema_check._compiled()
t2 = pc()
ok = check(data)
t3 = pc()
ok = ok and schema_check._constraints_hold(data)
t4 = pc()
warm0 = pc(); schema_check.conforms(data); warm1 = pc()
out = {"import": t1 - t0, "build": t2 - t1, "check": t3 - t2, "constraints": t4 - t3,
       "warm": warm1 - warm0, "ok": ok}
""",
    "fastjsonschema.compile": """
t0 = pc()
import fastjsonschema
t1 = pc()
validate = fastjsonschema.compile(json.loads(SCHEMA.read_text(encoding="utf-8")),
                                  use_default=False)
t2 = pc()
document = dates_as_text(data)
ta = pc()
try:
    validate(document); ok = True
except fastjsonschema.JsonSchemaException:
    ok = False
t3 = pc()
warm0 = pc(); validate(dates_as_text(data)); warm1 = pc()
out = {"import": t1 - t0, "build": t2 - t1, "adapt": ta - t2, "check": t3 - ta,
       "warm": warm1 - warm0, "ok": ok}
""",
    "fastjsonschema.compile_to_code (generated module)": """
sys.path.insert(0, GENERATED)
t0 = pc()
import registry_schema_fjs as generated
t1 = pc()
document = dates_as_text(data)
ta = pc()
try:
    generated.validate(document); ok = True
except generated.JsonSchemaValueException:
    ok = False
t3 = pc()
warm0 = pc(); generated.validate(dates_as_text(data)); warm1 = pc()
out = {"import": t1 - t0, "build": 0.0, "adapt": ta - t1, "check": t3 - ta,
       "warm": warm1 - warm0, "ok": ok}
""",
    "fastjsonschema.compile_to_code, standalone (no fastjsonschema import)": """
sys.path.insert(0, GENERATED)
t0 = pc()
import registry_schema_fjs_standalone as generated
t1 = pc()
document = dates_as_text(data)
ta = pc()
try:
    generated.validate(document); ok = True
except generated.JsonSchemaValueException:
    ok = False
t3 = pc()
warm0 = pc(); generated.validate(dates_as_text(data)); warm1 = pc()
out = {"import": t1 - t0, "build": 0.0, "adapt": ta - t1, "check": t3 - ta,
       "warm": warm1 - warm0, "ok": ok}
""",
    "jsonschema Draft202012Validator": """
t0 = pc()
import jsonschema
t1 = pc()
validator = jsonschema.Draft202012Validator(
    json.loads(SCHEMA.read_text(encoding="utf-8")),
    format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
t2 = pc()
document = dates_as_text(data)
ta = pc()
ok = validator.is_valid(document)
t3 = pc()
warm0 = pc(); validator.is_valid(dates_as_text(data)); warm1 = pc()
out = {"import": t1 - t0, "build": t2 - t1, "adapt": ta - t2, "check": t3 - ta,
       "warm": warm1 - warm0, "ok": ok}
""",
}

STANDALONE_HEADER = '''
class JsonSchemaValueException(ValueError):
    def __init__(self, message, value=None, name=None, definition=None, rule=None):
        super().__init__(message)
        self.message, self.value, self.name = message, value, name
        self.definition, self.rule = definition, rule


class JsonSchemaValuesException(ValueError):
    def __init__(self, errors):
        super().__init__(errors)
        self.errors = errors
'''


def generate_modules(directory: Path) -> None:
    """The ahead-of-time modules (what a build step would write), byte-compiled."""
    import fastjsonschema

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    code = fastjsonschema.compile_to_code(schema, use_default=False)
    entry = re.search(r"^def (\w+)\(", code, re.MULTILINE)  # named after the schema's $id
    assert entry is not None
    code += f"\n\nvalidate = {entry.group(1)}\n"
    (directory / "registry_schema_fjs.py").write_text(code, encoding="utf-8")
    imported = "from fastjsonschema import JsonSchemaValueException, JsonSchemaValuesException\n"
    assert code.count(imported) == 1
    standalone = code.replace(imported, STANDALONE_HEADER)
    (directory / "registry_schema_fjs_standalone.py").write_text(standalone, encoding="utf-8")


def run_child(body: str, registry: Path, generated: Path,
              env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    code = PRELUDE + body + "\nprint(json.dumps(out))\n"
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, str(registry), str(generated)],
                          cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"child failed: {done.stderr[-2000:]}")
    return wall, json.loads(done.stdout.strip().splitlines()[-1])


def time_command(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{command} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return elapsed


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1000:7.2f}"


def speed(runs: int) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_validate import synthetic_registry

    with tempfile.TemporaryDirectory() as tmp:
        generated = Path(tmp) / "generated"
        generated.mkdir()
        generate_modules(generated)
        big = Path(tmp) / "processors.yaml"
        big.write_text(synthetic_registry(2000), encoding="utf-8")
        registries = {"reference registry": REGISTRY,
                      f"2,000 processors ({big.stat().st_size:,} bytes)": big}
        # Bytecode cached outside the tree (as an installed wheel has it); the children and
        # the second validate command read and write it there.
        cached = dict(os.environ, PYTHONPYCACHEPREFIX=str(Path(tmp) / "pycache"))
        cached.pop("PYTHONDONTWRITEBYTECODE", None)
        as_is = dict(os.environ)
        validate = [sys.executable, "-m", "phasegate", "validate", "--root", str(REPO)]
        commands = {
            "python -m phasegate validate --root <repo> (environment as it is)": (validate, as_is),
            "python -m phasegate validate --root <repo> (bytecode cached)": (validate, cached),
            "python -c pass (interpreter start, for scale)": ([sys.executable, "-c", "pass"],
                                                              as_is),
        }
        cases = [(r, c) for r in registries for c in CHILDREN]
        for registry, child in cases:  # warm-up: page cache, bytecode in the prefix
            run_child(CHILDREN[child], registries[registry], generated, cached)
        for command, env in commands.values():
            time_command(command, env)
        inner: dict[tuple[str, str], list[dict[str, Any]]] = {case: [] for case in cases}
        process: dict[tuple[str, str], list[float]] = {case: [] for case in cases}
        walls: dict[str, list[float]] = {label: [] for label in commands}
        for _ in range(runs):  # interleaved, so a noisy moment hits every case
            for registry, child in cases:
                wall, out = run_child(CHILDREN[child], registries[registry], generated, cached)
                inner[registry, child].append(out)
                process[registry, child].append(wall)
            for label, (command, env) in commands.items():
                walls[label].append(time_command(command, env))

    print(f"\nSpeed: {runs} interleaved fresh interpreters each, median ms "
          f"(Python {sys.version.split()[0]})")
    keys = ["import", "build", "adapt", "check", "constraints"]
    for registry in registries:
        print(f"\n  {registry}:")
        print("  " + " ".join(f"{h:>7}" for h in ["import", "build", "adapt", "check",
                                                    "constr", "total", "warm", "process"])
              + "  checker")
        for child in CHILDREN:
            samples = inner[registry, child]
            assert all(s["ok"] for s in samples), (registry, child)
            columns = {k: [s.get(k, 0.0) for s in samples] for k in keys}
            total = [sum(s.get(k, 0.0) for k in keys) for s in samples]
            cells = [ms(columns[k]) if k in samples[0] else "      -" for k in keys]
            cells += [ms(total), ms([s["warm"] for s in samples]), ms(process[registry, child])]
            print("  " + " ".join(cells) + f"  {child}")
    print("  (adapt = copying the data with dates as ISO text, which the libraries need;\n"
          "   total = import + build + adapt + first check [+ constraints, hand-written only];\n"
          "   warm = a second check (adapt included); process = the child's wall time:\n"
          "   interpreter start, registry load and all of the above)")
    print("\nWhole commands, median (min) ms:")
    for label in commands:
        print(f"  {ms(walls[label])} ({min(walls[label]) * 1000:.1f})  {label}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    if args.runs < 11:
        parser.error("--runs must be at least 11")
    sys.path.insert(0, str(REPO))
    rows = correctness()
    names = list(rows[0][1])
    print("Correctness (pydantic is the source of truth; libraries see dates as ISO text):")
    table = [["", *names]]
    for label, verdicts in rows:
        truth = verdicts.get("pydantic")
        cells = []
        for name in names:
            value = verdicts.get(name, "-")
            mark = "" if truth is None or value in ("-", truth) else " !"
            cells.append(value + mark)
        table.append([label, *cells])
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    print("  (! = differs from pydantic; constraints = schema_check._constraints_hold)")
    if not args.skip_speed:
        speed(args.runs)


if __name__ == "__main__":
    main()
