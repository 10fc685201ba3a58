"""Names Google Cloud would reject never reach the plan: hostile pipelines, transitions, topics.

gcloud's parser takes any string as a resource id, so ``--check`` alone cannot
catch them. Each hostile registry is either refused with the offending name
(``InvalidNames``, exit 1 from ``deploy plan --check`` before any gcloud runs)
or planned with every name valid, judged here by patterns written from
Google's documentation independently of ``phasegate.deploy.names``.
"""

from __future__ import annotations

import copy
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from phasegate.deploy.commands import plan_command
from phasegate.deploy.names import RULES, InvalidNames, PlanError, name_problem
from phasegate.deploy.plan import plan_commands
from phasegate.deploy.resources import check_resource
from phasegate.deploy.steps import Argv
from phasegate.generation import generate
from phasegate.registry.loading import load_registry_text
from phasegate.registry.models import Registry

BASE: dict[str, Any] = {
    "version": 1,
    "pipeline": "NBA stats",
    "timezone": "UTC",
    "processors": {"raw_box": {"phase": 1}, "analytics_box": {"phase": 2}},
    "transitions": {
        "raw_to_analytics": {"from_phase": 1, "to_phase": 2, "collection": "raw_done"},
        "analytics_to_predictions": {"from_phase": 2, "to_phase": 3,
                                     "collection": "analytics_done", "action": "trigger",
                                     "trigger_topic": "nba-predict"},
    },
    "canary": {"notify": [{"slack": {"url_env": "SLACK_WEBHOOK_URL"}}]},
    "deploy": {"project": "acme-prod-1234", "region": "us-east4"},
}

# Written from the documentation, not from names.RULES.
TOPIC = re.compile(r"(?!goog)[A-Za-z][-A-Za-z0-9_.~+%]{2,254}")
DOCUMENTED = {
    "topic": lambda v: bool(TOPIC.fullmatch(v)),
    "subscription": lambda v: bool(TOPIC.fullmatch(v)),
    "function": lambda v: bool(re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", v)) and len(v) <= 63,
    "account": lambda v: bool(re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])", v)) and 6 <= len(v) <= 30,
    "display": lambda v: len(v.encode()) <= 100 and not re.search(r"[\x00-\x1f\x7f]", v),
    "job": lambda v: bool(re.fullmatch(r"[A-Za-z0-9_-]{1,500}", v)),
    "metric": lambda v: bool(re.fullmatch(r"[A-Za-z0-9_\-.,+!*',()%/]{1,100}", v))
    and not v.startswith("/"),
    "secret": lambda v: bool(re.fullmatch(r"[A-Za-z0-9_-]{1,255}", v)),
    "labels": lambda v: all(re.fullmatch(r"[a-z][a-z0-9_-]{0,62}", key)
                            and re.fullmatch(r"[a-z0-9_-]{0,63}", value)
                            for key, value in (item.split("=", 1) for item in v.split(","))),
}
POSITIONAL = {
    ("pubsub", "topics", "create"): "topic",
    ("pubsub", "subscriptions", "create"): "subscription",
    ("functions", "deploy"): "function",
    ("iam", "service-accounts", "create"): "account",
    ("scheduler", "jobs", "create", "http"): "job",
    ("logging", "metrics", "create"): "metric",
    ("secrets", "describe"): "secret",
}
FLAGS = {"--topic": "topic", "--dead-letter-topic": "topic", "--display-name": "display",
         "--labels": "labels", "--update-labels": "labels"}


def _names_in(argv: Argv) -> list[tuple[str, str]]:
    found = []
    words = argv[1:]
    for prefix, kind in POSITIONAL.items():
        if words[:len(prefix)] == prefix:
            found.append((kind, words[len(prefix)]))
    for token in argv:
        flag, _, value = token.partition("=")
        if flag in FLAGS:
            found.append((FLAGS[flag], value))
    return found


def _registry(**changes: Any) -> Registry:
    data = copy.deepcopy(BASE)
    for path, value in changes.items():
        node = data
        *parents, last = path.split("__")
        for key in parents:
            node = node[key]
        node[last] = value
    loaded = load_registry_text(json.dumps(data), "r.yaml")
    assert loaded.registry is not None, changes
    return loaded.registry


def _refused_or_valid(registry: Registry) -> str | None:
    """The refusal's message, or None after checking every name of the plan."""
    try:
        steps = plan_commands(registry, "r.yaml")
    except InvalidNames as error:
        return str(error)
    bad = [(kind, value) for step in steps for argv in step.gcloud_commands()
           for kind, value in _names_in(argv) if not DOCUMENTED[kind](value)]
    assert not bad, f"the plan emits names Google Cloud rejects: {bad}"
    return None


@pytest.mark.parametrize("pipeline", [
    "NBA stats (prod)", "nba\nrm -rf / #", "日本語のパイプライン", "x" * 300, "-", "nba`id`$(id)",
    "NBA_stats.v2", "a" * 70,
])
def test_hostile_pipeline_names_are_refused_or_planned_with_valid_names(pipeline: str) -> None:
    message = _refused_or_valid(_registry(pipeline=pipeline))
    if message is not None:
        assert "names Google Cloud would reject" in message
        assert repr(pipeline) in message  # where the bad name comes from


def test_derived_pubsub_names_are_made_valid() -> None:
    """The plan's own names for topics and subscriptions: never 'goog...', never too long."""
    from phasegate.deploy.names import deploy_names

    names = deploy_names(_registry(pipeline="Google Analytics"))
    assert names.completion_topic == "pg-google-analytics-completions"
    assert all(f.subscription and f.subscription.startswith("pg-google-analytics-")
               for f in names.orchestrators.values())
    assert _refused_or_valid(_registry(pipeline="Google Analytics")) is None
    names = deploy_names(_registry(deploy__completion_topic="c" * 250))
    assert len(names.dead_letter_topic) == len(names.dead_letter_hold) == 255
    assert names.dead_letter_topic != names.dead_letter_hold


@pytest.mark.parametrize(("changes", "bad"), [
    ({"deploy__completion_topic": "goog-completions"}, "'goog-completions'"),
    ({"deploy__completion_topic": "ab"}, "Pub/Sub topic id 'ab'"),
    ({"deploy__completion_topic": "c" * 256}, "Pub/Sub topic id '" + "c" * 256 + "'"),
    ({"deploy__dead_letter_topic": "goog-dead"}, "Pub/Sub topic id 'goog-dead'"),
    ({"transitions__analytics_to_predictions__trigger_topic": "googlers"}, "'googlers'"),
    ({"canary__notify": [{"slack": {"url_env": "X" * 300}}]}, "Secret Manager secret id"),
    ({"deploy__function_service_account": "Bad.Runner@acme-prod-1234.iam.gserviceaccount.com"},
     "service account id 'Bad.Runner'"),
])
def test_names_google_rejects_are_refused(changes: dict[str, Any], bad: str) -> None:
    registry = _registry(**changes)
    with pytest.raises(InvalidNames) as caught:
        plan_commands(registry, "r.yaml")
    assert bad in str(caught.value)
    assert isinstance(caught.value, PlanError)
    # `deploy plan --check` exits 1 before running any gcloud, and prints no script
    out, err = io.StringIO(), io.StringIO()
    assert plan_command(registry, "r.yaml", Path("."), project=None, region=None, check=True,
                        out=out, err=err) == 1
    assert out.getvalue() == ""
    assert bad in err.getvalue() and "gcloud commands through" not in err.getvalue()


def test_a_heartbeat_metric_with_spaces_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """The metric as render_canary_monitoring once named it: the pipeline, '-' -> '_' only."""
    from phasegate.registry.generate import render_canary_monitoring as render

    def old_naming(registry: Registry, source: str, inputs: Any = None) -> str:
        document = json.loads(render(registry, source))
        document["log_metric"]["name"] = ("phasegate_canary_heartbeat_"
                                          + registry.pipeline.replace("-", "_"))
        return json.dumps(document)

    monkeypatch.setattr("phasegate.deploy.plan.render_canary_monitoring", old_naming)
    registry = _registry(pipeline="NBA stats (prod)")
    with pytest.raises(InvalidNames, match=re.escape(
            "log-based metric id 'phasegate_canary_heartbeat_NBA stats (prod)' is invalid")):
        plan_commands(registry, "r.yaml")
    out, err = io.StringIO(), io.StringIO()
    assert plan_command(registry, "r.yaml", Path("."), project=None, region=None, check=True,
                        out=out, err=err) == 1
    assert out.getvalue() == "" and "log-based metric id" in err.getvalue()


def test_resource_files_with_invalid_names_fail_the_resource_check() -> None:
    def schema(*fields: str) -> dict[str, Any]:
        return {"type": "object", "properties": {f: {"type": "string"} for f in fields}}

    discovery: Any = {"logging.v2": {"schemas": {"LogMetric": schema("name")}},
                      "monitoring.v3": {"schemas": {"AlertPolicy": schema("displayName")}},
                      "cloudscheduler.v1": {"schemas": {"Job": schema("name", "description")}}}
    monitoring = {"log_metric": {"name": "heartbeat NBA stats (prod)"},
                  "alert_policy": {"displayName": "ok"}}
    [finding] = check_resource("canary-monitoring", monitoring, discovery, "m")
    assert (finding.path, finding.severity) == ("$.log_metric.name", "error")
    job = {"name": "projects/${PROJECT}/locations/${REGION}/jobs/phasegate-canary-MLB Games",
           "description": "d"}
    [finding] = check_resource("cloud-scheduler", job, discovery, "j")
    # the plan deploys it as phasegate-canary-MLB-Games; only a job made from the file fails
    assert finding.severity == "warning" and "'phasegate-canary-MLB-Games'" in finding.message
    job["name"] = "projects/p/locations/r/jobs/" + "j" * 501
    [finding] = check_resource("cloud-scheduler", job, discovery, "j")
    assert (finding.path, finding.severity) == ("$.name", "error")


def test_generate_reports_a_refused_plan_as_an_error(tmp_path: Path) -> None:
    data = copy.deepcopy(BASE)
    data["deploy"]["completion_topic"] = "goog-completions"
    data["generate"] = [{"path": "deploy/plan.sh", "format": "deploy-plan"}]
    registry = tmp_path / "registry" / "processors.yaml"
    registry.parent.mkdir()
    registry.write_text(json.dumps(data))
    err = io.StringIO()
    assert generate(registry, tmp_path, check=False, out=io.StringIO(), err=err,
                    shown="registry/processors.yaml") == 2
    assert "phasegate: error: names Google Cloud would reject" in err.getvalue()
    assert not (tmp_path / "deploy").exists()


@pytest.mark.parametrize(("kind", "good", "bad"), [
    ("topic", ["abc", "A.b~c+d%e_f-g"], ["ab", "goog-x", "1abc", "a b", "a" * 256]),
    ("subscription", ["x-push"], ["googx", "x/y"]),
    ("function", ["a", "nba-stats-canary", "a" * 49], ["A", "a-", "-a", "a_b", "a" * 50]),
    ("account_id", ["abcdef", "phasegate-nba-stats"], ["abcde", "Abcdef", "abc.def", "a" * 31]),
    ("account_display_name", ["phasegate (NBA stats)", "é" * 50], ["a\nb", "é" * 51]),
    ("scheduler_job", ["phasegate-canary-nba_stats"], ["a b", "", "a" * 501]),
    ("log_metric", ["phasegate_canary_heartbeat_NBA_stats__prod_"],
     ["a b", "a(b)", "/a", "", "a" * 101]),
    ("secret", ["SLACK_WEBHOOK_URL"], ["A B", "a" * 256]),
    ("label_value", ["nba-stats", ""], ["NBA", "a" * 64]),
    ("env_value", ["phase2_to_phase3"], ["a,b"]),
])
def test_name_rules(kind: str, good: list[str], bad: list[str]) -> None:
    assert kind in RULES
    for value in good:
        assert name_problem(kind, value) is None, value
    for value in bad:
        problem = name_problem(kind, value)
        assert problem is not None and repr(value) in problem, value
