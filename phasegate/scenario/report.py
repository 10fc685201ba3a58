"""Scenario reports: text for people, JSON for tools, JUnit XML for CI dashboards."""

from __future__ import annotations

import json
from collections.abc import Sequence
from xml.etree import ElementTree

from phasegate.scenario.runner import ScenarioResult
from phasegate.scenario.spec import format_duration


def _when(delta: object) -> str | None:
    return format_duration(delta) if delta is not None else None  # type: ignore[arg-type]


def text(results: Sequence[ScenarioResult]) -> str:
    lines = []
    for result in results:
        verdict = "PASS" if result.passed else "FAIL"
        lines.append(f"{verdict} {result.scenario.path} ({result.canary_runs} canary runs, "
                     f"{result.deliveries} deliveries, {len(result.alerts)} alerts)")
        for item in result.results:
            mark = "ok  " if item.passed else "FAIL"
            detection = (f"; detected {format_duration(item.detection)} after it became "
                         "detectable" if item.detection is not None else "")
            lines.append(f"  {mark} {item.expectation.describe()}: {item.message}{detection}")
        for happening in result.unaccounted:
            lines.append(f"  unexpected alert: {happening.key} at "
                         f"{format_duration(happening.at)}: {happening.detail}")
    failed = sum(not r.passed for r in results)
    lines.append(f"{len(results) - failed} passed, {failed} failed")
    return "\n".join(lines) + "\n"


def as_json(results: Sequence[ScenarioResult]) -> str:
    return json.dumps({"scenarios": [{
        "path": str(r.scenario.path), "passed": r.passed, "canary_runs": r.canary_runs,
        "deliveries": r.deliveries,
        "expectations": [{
            "expectation": item.expectation.describe(), "passed": item.passed,
            "happened_at": _when(item.happened_at), "detection": _when(item.detection),
            "message": item.message} for item in r.results],
        "alerts": [{"key": h.key, "at": _when(h.at), "detail": h.detail} for h in r.alerts],
        "unaccounted_alerts": [{"key": h.key, "at": _when(h.at)} for h in r.unaccounted],
    } for r in results]}, indent=2) + "\n"


def junit(results: Sequence[ScenarioResult]) -> str:
    suites = ElementTree.Element("testsuites", name="phasegate scenarios")
    for result in results:
        failures = sum(not item.passed for item in result.results)
        suite = ElementTree.SubElement(suites, "testsuite", name=result.scenario.name,
                                       tests=str(len(result.results)), failures=str(failures))
        for item in result.results:
            case = ElementTree.SubElement(suite, "testcase", classname=result.scenario.name,
                                          name=item.expectation.describe())
            if not item.passed:
                ElementTree.SubElement(case, "failure", message=item.message).text = (
                    item.message)
    return ElementTree.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"
