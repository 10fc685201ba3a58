#!/usr/bin/env python3
"""Detection times of three canaries on the same scenario timelines.

    python scenarios/compare_rules.py [--format text|json] [--skip-quiet-runs]

For the scenarios that must alert (ALERTING), each LATE the scenario expects is
reported three ways:

- early: phasegate as shipped (``canary.early`` at its defaults, or as the
  scenario's registry sets it), replayed on the emulators exactly as
  ``phasegate test`` replays it;
- deadline-only: the same scenario with ``canary.early: {silent_run_keys: 0,
  learn_days: 0}`` injected into its inline registry (both early rules off);
- plan: the seed plan's canary, computed purely from the scenario's timeline
  (no emulator): at each canary tick (the scenario's start, then every
  ``canary_every``), for *today's* run key only (the date of the tick in the
  registry's timezone: the plan's canary checks the current date and stops at
  the date rollover), it alerts when at least 5 processor entries exist for
  the transition (any status, ``failed`` included: an entry is a key in the
  document), 30 minutes have passed since the first completion (a
  ``success`` or ``partial`` message), and the transition has not fired. It
  alerts again at every tick the condition holds. "Fired" is modelled as the
  plan's orchestrator fires: every expected processor has completed (no
  policy tiers; the scenarios compared here have none), and each firing time
  so computed is checked against the firing phasegate recorded in the early
  replay.

For the scenarios that must stay quiet (QUIET), it reports the plan's alerts
(all of them false alerts) and, unless --skip-quiet-runs, phasegate's measured
alerts on the same replay.

The emulators are started as ``phasegate test`` starts them (or the ones named
by FIRESTORE_EMULATOR_HOST and PUBSUB_EMULATOR_HOST are used). Only loopback
addresses are used.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

from phasegate.runtime import COMPLETING  # noqa: E402
from phasegate.scenario.spec import Scenario, format_duration, load_scenario  # noqa: E402

ALERTING = ["feed_dies_after_a_week.yaml", "disabled_upstream_still_expected.yaml"]
QUIET = ["normal_month.yaml", "failure_retried_within_the_hour.yaml",
         "always_three_hours_late.yaml"]
DEADLINE_ONLY = {"silent_run_keys": 0, "learn_days": 0}
PLAN_MIN_ENTRIES = 5
PLAN_AFTER_FIRST = dt.timedelta(minutes=30)
Entry = tuple[dt.timedelta, str, str]  # (at, canonical name, status)


def when(delta: dt.timedelta | None, scenario: Scenario | None = None,
         zone: str | None = None) -> str:
    """``7d2h15m``, with the local clock time when a scenario is given: ``7d2h15m (00:15)``."""
    if delta is None:
        return "never"
    if scenario is None or zone is None:
        return format_duration(delta)
    clock = (scenario.start + delta).astimezone(ZoneInfo(zone)).strftime("%H:%M")
    return f"{format_duration(delta)} ({clock})"


# -- the plan's rule, from the timeline alone ----------------------------------------------


def _module(scenario: Scenario) -> Any:
    """The generated expectations of the scenario's registry (as the runner builds them)."""
    from phasegate.generation import read_inputs
    from phasegate.registry.generate import render_json
    from phasegate.runtime import Expectations
    from phasegate.scenario.runner import _registry

    registry, source, root = _registry(scenario)
    data = json.loads(render_json(registry, source, read_inputs(registry, root)))
    return Expectations.from_data(data, source)


def _timeline(scenario: Scenario, module: Any) -> dict[tuple[str, str], list[Entry]]:
    """(transition, run key) -> [(at, canonical name, status)], in delivery order."""
    from phasegate.scenario.runner import _targets

    found: dict[tuple[str, str], list[Entry]] = {}
    ordered = sorted(enumerate(scenario.events), key=lambda item: (item[1].at, item[0]))
    for _index, event in ordered:
        if not event.deliver or event.at > scenario.until:
            continue
        payload = event.payload
        run_key = str(payload.get("game_date") or payload.get("run_key"))
        raw = str(payload.get("processor_name"))
        name = module.aliases.get(raw, raw)
        status = str(payload.get("status", "success"))
        for transition in _targets(event, module):
            found.setdefault((transition, run_key), []).append((event.at, name, status))
    return found


def fired_at(entries: list[Entry], expected: frozenset[str]) -> dt.timedelta | None:
    """When every expected processor had completed (the plan's orchestrator fires then)."""
    done: set[str] = set()
    for at, name, status in entries:
        if status in COMPLETING:
            done.add(name)
            if expected <= done:
                return at
    return None


def plan_alerts(scenario: Scenario, module: Any) -> tuple[
        dict[tuple[str, str], list[dt.timedelta]], dict[tuple[str, str], dt.timedelta | None]]:
    """(transition, run key) -> the ticks at which the plan's canary alerts; and when each
    (transition, run key) fired, as the plan's orchestrator fires (all expected complete)."""
    zone = ZoneInfo(module.timezone)
    timeline = _timeline(scenario, module)
    fired: dict[tuple[str, str], dt.timedelta | None] = {}
    for (transition, run_key), entries in timeline.items():
        expectation = module.expectation(transition, dt.date.fromisoformat(run_key),
                                         scenario.start)
        fired[(transition, run_key)] = fired_at(entries, expectation.expected)
    alerts: dict[tuple[str, str], list[dt.timedelta]] = {}
    tick = dt.timedelta()
    while tick <= scenario.until:
        today = (scenario.start + tick).astimezone(zone).date().isoformat()
        for (transition, run_key), entries in timeline.items():
            if run_key != today:
                continue  # the plan's canary only checks the current date
            seen = [e for e in entries if e[0] <= tick]
            names = {name for _at, name, _status in seen}
            completions = [at for at, _name, status in seen if status in COMPLETING]
            done = fired[(transition, run_key)]
            if (len(names) >= PLAN_MIN_ENTRIES and completions
                    and tick - min(completions) >= PLAN_AFTER_FIRST
                    and (done is None or done > tick)):
                alerts.setdefault((transition, run_key), []).append(tick)
        tick += scenario.canary_every
    return alerts, fired


# -- phasegate on the emulators ------------------------------------------------------------


def deadline_only(scenario: Scenario) -> Scenario:
    """The scenario with both early rules off, injected into its inline registry."""
    if not isinstance(scenario.registry, dict):
        raise SystemExit(f"{scenario.path}: only inline registries can be changed here")
    registry = copy.deepcopy(scenario.registry)
    canary = registry.setdefault("canary", {})
    canary["early"] = {**(canary.get("early") or {}), **DEADLINE_ONLY}
    return dataclasses.replace(scenario, registry=registry)


def replay(scenario: Scenario) -> dict[str, Any]:
    """Run the scenario as ``phasegate test`` does: alerts opened and firings."""
    from phasegate.scenario.runner import run_scenario

    started = time.monotonic()
    result = run_scenario(scenario)
    opens: dict[str, tuple[dt.timedelta, str]] = {}
    for happening in result.happenings:
        if happening.kind == "open" and happening.key not in opens:
            opens[happening.key] = (happening.at, happening.detail)
    triggered = {h.key: h.at for h in result.happenings if h.kind == "triggered"}
    return {"passed": result.passed, "opens": opens, "triggered": triggered,
            "alerts": len(result.alerts), "seconds": time.monotonic() - started}


def rule_of(detail: str) -> str:
    if "silent for" in detail:
        return "silence"
    if "usually by" in detail and "before the" in detail:
        return "learned"
    return "deadline"


def compare(skip_quiet_runs: bool) -> dict[str, Any]:
    from phasegate.scenario.emulators import running_emulators

    os.environ.setdefault("NO_GCE_CHECK", "True")  # never probe a metadata server
    report: dict[str, Any] = {"alerting": [], "quiet": [], "plan_false_in_alerting": [],
                              "firing_mismatches": []}
    with running_emulators():
        for name in ALERTING:
            scenario = load_scenario(HERE / name)
            module = _module(scenario)
            early, late = replay(scenario), replay(deadline_only(scenario))
            plan, fired = plan_alerts(scenario, module)
            _check_firings(name, fired, early["triggered"], report)
            nights = sorted({str(e.payload.get("game_date") or e.payload.get("run_key"))
                             for e in scenario.events})
            for expectation in scenario.expect:
                if expectation.kind != "opens":
                    continue
                key = f"{expectation.transition}/{expectation.run_key}/{expectation.state}"
                early_at, detail = early["opens"].get(key, (None, ""))
                late_at, late_detail = late["opens"].get(key, (None, ""))
                ticks = plan.get((expectation.transition, expectation.run_key), [])
                zone = module.timezone
                report["alerting"].append({
                    "scenario": scenario.name, "run_key": expectation.run_key,
                    "night": (nights.index(expectation.run_key) + 1
                              if expectation.run_key in nights else None),
                    "state": expectation.state, "rule": rule_of(detail) if detail else None,
                    "detectable_at": when(expectation.detectable_at, scenario, zone),
                    "early_at": when(early_at, scenario, zone), "early_detail": detail,
                    "deadline_only_at": when(late_at, scenario, zone),
                    "deadline_only_detail": late_detail,
                    "plan_first_at": when(ticks[0] if ticks else None, scenario, zone),
                    "plan_alerts": len(ticks),
                    "plan_ticks": [when(t) for t in ticks],
                    "early_passed": early["passed"],
                })
            expected = {(e.transition, e.run_key) for e in scenario.expect if e.kind == "opens"}
            report["plan_false_in_alerting"].append({
                "scenario": scenario.name,
                "plan_alerts": sum(len(t) for k, t in plan.items() if k not in expected),
                "plan_nights": len([k for k in plan if k not in expected]),
                "nights": len([k for k in fired if k not in expected])})
            report.setdefault("runs", []).append({
                "scenario": scenario.name, "early_seconds": round(early["seconds"], 1),
                "deadline_only_seconds": round(late["seconds"], 1),
                "early_alerts": early["alerts"], "deadline_only_alerts": late["alerts"]})
        for name in QUIET:
            scenario = load_scenario(HERE / name)
            module = _module(scenario)
            plan, fired = plan_alerts(scenario, module)
            measured = None if skip_quiet_runs else replay(scenario)
            if measured is not None:
                _check_firings(name, fired, measured["triggered"], report)
            report["quiet"].append({
                "scenario": scenario.name,
                "phasegate_alerts": None if measured is None else measured["alerts"],
                "phasegate_passed": None if measured is None else measured["passed"],
                "plan_alerts": sum(len(t) for t in plan.values()),
                "plan_nights": len(plan),
                "game_nights": len({run_key for _transition, run_key in fired}),
                "plan_by_run_key": {f"{t}/{k}": [when(x) for x in ticks]
                                    for (t, k), ticks in sorted(plan.items())},
            })
    return report


def _check_firings(name: str, modelled: dict[tuple[str, str], dt.timedelta | None],
                   recorded: dict[str, dt.timedelta],
                   report: dict[str, Any]) -> None:
    """The plan's firing model against the firings phasegate recorded on the emulators."""
    for (transition, run_key), at in modelled.items():
        actual = recorded.get(f"{transition}/{run_key}")
        if actual != at:
            report["firing_mismatches"].append(
                f"{name}: {transition}/{run_key} modelled {when(at)}, recorded {when(actual)}")


def text(report: dict[str, Any]) -> str:
    lines = ["| scenario | night (run key) | rule | detectable at | alerted at (early) | "
             "deadline-only alert | plan's rule alert |", "|---|---|---|---|---|---|---|"]
    for row in report["alerting"]:
        plan = (f"{row['plan_first_at']} ({row['plan_alerts']} alerts)" if row["plan_alerts"]
                else "never")
        night = f"{row['night']} ({row['run_key']})" if row["night"] else row["run_key"]
        lines.append(f"| {row['scenario']} | {night} | {row['rule']} | {row['detectable_at']} "
                     f"| {row['early_at']} | {row['deadline_only_at']} | {plan} |")
    lines += ["", "Alert details (early):"]
    lines += [f"- {r['scenario']} {r['run_key']} at {r['early_at']}: {r['early_detail']}"
              for r in report["alerting"]]
    lines += [""]
    lines += [f"- {r['scenario']}: on its {r['nights']} other night(s), the plan's rule raised "
              f"{r['plan_alerts']} false alert(s) on {r['plan_nights']} night(s)"
              for r in report["plan_false_in_alerting"]]
    lines += ["", "| quiet scenario | phasegate alerts | plan's rule: false alerts "
              "(nights with one / game nights) |", "|---|---|---|"]
    for row in report["quiet"]:
        measured = "not run" if row["phasegate_alerts"] is None else row["phasegate_alerts"]
        lines.append(f"| {row['scenario']} | {measured} | {row['plan_alerts']} "
                     f"({row['plan_nights']} / {row['game_nights']}) |")
    for row in report["quiet"]:
        for key, ticks in row["plan_by_run_key"].items():
            lines.append(f"- {row['scenario']} {key}: plan alerts at {', '.join(ticks)}")
    lines.append("")
    lines += [f"runs: {r}" for r in report.get("runs", [])]
    if report["firing_mismatches"]:
        lines += ["", "FIRING MODEL MISMATCHES (the plan column is not trustworthy):"]
        lines += [f"- {m}" for m in report["firing_mismatches"]]
    else:
        lines.append("firing model: every modelled firing matches the recorded one")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--skip-quiet-runs", action="store_true",
                        help="compute the plan's false alerts only; do not replay the quiet "
                             "scenarios through phasegate")
    args = parser.parse_args(argv)
    report = compare(args.skip_quiet_runs)
    if args.format == "json":
        print(json.dumps(report, indent=2))
    else:
        print(text(report), end="")
    return 1 if report["firing_mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main())
