"""`phasegate test`: the shipped scenarios pass; failures and malformed files are reported."""

from __future__ import annotations

import json
import textwrap
from xml.etree import ElementTree

import pytest

from phasegate.runtime import parse_duration
from phasegate.scenario.spec import ScenarioError, load_scenario
from tests.conftest import REPO, run_phasegate


def emulator_env(emulators) -> dict[str, str]:
    return {"FIRESTORE_EMULATOR_HOST": emulators["firestore"],
            "PUBSUB_EMULATOR_HOST": emulators["pubsub"]}


def test_the_shipped_scenarios_pass_with_zero_false_alerts(emulators, tmp_path):
    junit = tmp_path / "scenarios.xml"
    result = run_phasegate("test", "scenarios/", "--format", "json", "--junit", str(junit),
                           env=emulator_env(emulators), timeout=900)  # a month is ~65 s
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert len(report["scenarios"]) >= 12
    for scenario in report["scenarios"]:
        assert scenario["passed"], scenario
        assert scenario["unaccounted_alerts"] == []
    normal = [s for s in report["scenarios"] if not any(
        e["expectation"].startswith("opens") for e in s["expectations"])]
    assert len(normal) >= 7 and all(s["alerts"] == [] for s in normal)
    suites = ElementTree.parse(junit).getroot()
    assert len(suites.findall("testsuite")) == len(report["scenarios"])
    assert all(suite.get("failures") == "0" for suite in suites.findall("testsuite"))


def test_a_wrong_expectation_fails_and_the_alert_is_listed(emulators, tmp_path):
    scenario = tmp_path / "wrong.yaml"
    text = (REPO / "scenarios" / "disabled_upstream_still_expected.yaml").read_text()
    text = text.replace("between: [4h30m, 4h45m]", "between: [1h, 2h]")
    text = text.replace("  - no_other_alerts\n", "")
    scenario.write_text(text)
    result = run_phasegate("test", str(scenario), env=emulator_env(emulators))
    assert result.returncode == 1
    assert "FAIL opens LATE phase2_to_phase3 2026-02-09 between 1h and 2h: at 4h30m, " \
           "outside the window" in result.stdout


def test_a_wrong_message_count_or_reason_fails(emulators, tmp_path):
    scenario = tmp_path / "fan.yaml"
    text = (REPO / "scenarios" / "fan_out_each_completed.yaml").read_text()
    scenario.write_text(text.replace("messages: 4", "messages: 5"))
    result = run_phasegate("test", str(scenario), env=emulator_env(emulators))
    assert result.returncode == 1
    assert "sent 4 message(s), not 5" in result.stdout
    scenario.write_text(text.replace('reason: "tier:30m"', "reason: all_complete"))
    result = run_phasegate("test", str(scenario), env=emulator_env(emulators))
    assert result.returncode == 1 and "never happened" in result.stdout


def test_an_unexpected_alert_fails_no_other_alerts(emulators, tmp_path):
    scenario = tmp_path / "surprise.yaml"
    text = (REPO / "scenarios" / "alias_missing.yaml").read_text()
    text = "\n".join(line for line in text.splitlines() if "opens: UNKNOWN_NAMES" not in line)
    scenario.write_text(text.replace("../registry/", f"{REPO}/registry/") + "\n")
    result = run_phasegate("test", str(scenario), env=emulator_env(emulators))
    assert result.returncode == 1
    assert "unexpected alert: phase2_to_phase3/2026-02-09/UNKNOWN_NAMES at 30m" in result.stdout


@pytest.mark.parametrize("body,where,message", [
    ("registry: ../nowhere.yaml\nstart: 2026-02-09T22:00:00-05:00\nuntil: 1d\n",
     "1:11", "does not exist"),
    ("registry: {version: 1}\nstart: tomorrow\nuntil: 1d\n", "2:8", "UTC offset"),
    ("registry: {version: 1}\nstart: 2026-02-09T22:00:00-05:00\nuntil: 1 day\n", "3:8",
     "not a duration"),
    ("registry: {version: 1}\nstart: 2026-02-09T22:00:00-05:00\nuntil: 1d\nevents:\n"
     "  - {at: 5m, pubish: {}}\n", "5:14", "unknown field 'pubish'"),
    ("registry: {version: 1}\nstart: 2026-02-09T22:00:00-05:00\nuntil: 1d\nexpect:\n"
     "  - {opens: LAET, transition: t, run_key: 2026-02-09}\n", "5:13", "not an alerting state"),
    ("registry: {version: 1}\nstart: 2026-02-09T22:00:00-05:00\nuntil: 1d\nexpect:\n"
     "  - {triggered: t, run_key: 2026-02-09, messages: -1}\n", "5:51", "messages is a count"),
    ("registry: {version: 1}\nstart: 2026-02-09T22:00:00-05:00\nuntil: 1d\nexpect:\n"
     "  - {opens: LATE, transition: t, run_key: 2026-02-09, reason: x}\n", "5:63",
     "reason belongs to a triggered expectation"),
])
def test_malformed_scenarios_name_file_line_and_column(tmp_path, body, where, message):
    path = tmp_path / "bad.yaml"
    path.write_text(body)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert str(caught.value).startswith(f"{path}:{where}: ")
    assert message in str(caught.value)
    result = run_phasegate("test", str(path))  # no emulator is needed to refuse it
    assert result.returncode == 2
    assert f"{path}:{where}:" in result.stderr and "Traceback" not in result.stderr


def test_durations():
    assert parse_duration("1d1h30m").total_seconds() == 91800
    assert parse_duration("0m").total_seconds() == 0
    assert parse_duration("90") is None and parse_duration("1 h") is None


def test_example_from_the_issue_parses(tmp_path):
    path_text = textwrap.dedent("""\
        registry: REGISTRY
        start: 2026-02-09T22:00:00-05:00
        canary_every: 15m
        until: 3d
        events:
          - at: 5m
            publish: {processor_name: NbacGamebookProcessor, game_date: 2026-02-09, status: success}
          - at: 2h
            deliver: false
            publish: {processor_name: OddsApiPropsBatchProcessor, game_date: 2026-02-09, status: success}
        expect:
          - {opens: LATE, transition: phase2_to_phase3, run_key: 2026-02-09, between: [4h, 4h30m]}
          - {triggered: phase3_to_phase4, run_key: 2026-02-09, between: [0m, 3h]}
          - no_other_alerts
        """)
    scenario_path = tmp_path / "example.yaml"
    scenario_path.write_text(path_text.replace("REGISTRY", str(REPO / "registry" /
                                                               "processors.yaml")))
    scenario = load_scenario(scenario_path)
    assert [e.deliver for e in scenario.events] == [True, False]
    assert [e.kind for e in scenario.expect] == ["opens", "triggered", "no_other_alerts"]
