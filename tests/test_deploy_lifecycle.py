"""The plan over a pipeline's life: a renamed transition and a changed completion topic.

The rendered script runs in bash against a fake gcloud that keeps state
(functions and subscriptions with their labels and topics) between runs, so
a test deploys one registry, then the changed one, and looks at what is left.
The gcloud commands of these steps also go through the real gcloud parser.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from phasegate.deploy.gcloud_check import check_plan
from phasegate.deploy.names import PIPELINE_LABEL, ROLE_LABEL, deploy_names
from phasegate.deploy.plan import plan_commands, render_plan
from phasegate.deploy.steps import PlanStep
from phasegate.registry.loading import load_registry_text
from phasegate.registry.models import Registry
from tests.test_deploy import _require

PROJECT = "acme-prod-1234"
REGION = "us-east4"

REGISTRY = """\
version: 1
pipeline: NBA stats
timezone: UTC
processors:
  raw_box: {{phase: 2}}
  analytics_box: {{phase: 3}}
transitions:
  {first}: {{from_phase: 2, to_phase: 3, collection: phase2_done}}
  phase3_to_phase4: {{from_phase: 3, to_phase: 4, collection: phase3_done}}
deploy:
  project: {project}
  region: {region}
  completion_topic: {topic}
"""

# A gcloud that remembers functions and subscriptions in a JSON file, filters lists the
# way the plan's --filter asks (labels.KEY~^VALUE$ terms joined by AND) and logs calls.
FAKE_GCLOUD = r'''#!/usr/bin/env python3
import json, os, re, sys

args = sys.argv[1:]
state_path = os.environ["FAKE_STATE"]
with open(state_path) as handle:
    state = json.load(handle)
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps(args) + "\n")
flags = dict(a[2:].split("=", 1) for a in args if a.startswith("--") and "=" in a)
words = [a for a in args if not a.startswith("--")]
project = flags.get("project", "")

def labels(value):
    return dict(item.split("=", 1) for item in value.split(",")) if value else {}

def matches(resource_labels):
    for term in flags.get("filter", "").split(" AND "):
        key, pattern = re.fullmatch(r"labels\.([a-z_-]+)~(.+)", term).groups()
        if key not in resource_labels or not re.search(pattern, resource_labels[key]):
            return False
    return True

def save():
    with open(state_path, "w") as handle:
        json.dump(state, handle)

subs, functions = state["subscriptions"], state["functions"]
if words[:2] == ["functions", "deploy"]:
    functions.setdefault(words[2], {}).update(labels(flags.get("update-labels")))
    save()
elif words[:2] == ["functions", "describe"]:
    print(f"https://{words[2]}-uc.a.run.app")
elif words[:2] == ["functions", "list"]:
    print("\n".join(name for name, found in functions.items() if matches(found)))
elif words[:2] == ["functions", "delete"]:
    del functions[words[2]]
    save()
elif words[:2] == ["pubsub", "subscriptions"]:
    verb, name = words[2], (words[3] if len(words) > 3 else None)
    if verb == "list":
        print("\n".join(n for n, sub in subs.items() if matches(sub["labels"])))
    elif verb == "describe":
        if name not in subs:
            print(f"ERROR: NOT_FOUND: {name}", file=sys.stderr)
            sys.exit(1)
        if flags.get("format") == "value(topic)":
            print(subs[name]["topic"])
    elif verb == "create":
        if name in subs:
            print(f"ERROR: ALREADY_EXISTS: {name}", file=sys.stderr)
            sys.exit(1)
        subs[name] = {"topic": f"projects/{project}/topics/{flags['topic']}",
                      "labels": labels(flags.get("labels"))}
        save()
    elif verb == "update":
        subs[name]["labels"].update(labels(flags.get("update-labels")))
        save()
    elif verb == "delete":
        if name not in subs:
            print(f"ERROR: NOT_FOUND: {name}", file=sys.stderr)
            sys.exit(1)
        del subs[name]
        save()
elif words[:2] == ["projects", "describe"]:
    print("4242")
elif words[:2] == ["secrets", "describe"]:
    pass
elif "describe" in words:
    sys.exit(1)  # topics, accounts, the database, the job, the metric: not there yet
'''


class FakeCloud:
    """A project's functions and subscriptions, kept by the fake gcloud between runs."""

    def __init__(self, tmp_path: Path) -> None:
        self.dir = tmp_path
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        for name in ("gcloud", "phasegate"):
            (self.bin / name).write_text(FAKE_GCLOUD if name == "gcloud"
                                         else "#!/bin/sh\nexit 0\n")
            (self.bin / name).chmod(0o755)
        self.state = tmp_path / "state.json"
        self.state.write_text(json.dumps({"subscriptions": {}, "functions": {}}))
        self.log = tmp_path / "calls.log"

    def run(self, script: str) -> tuple[list[list[str]], str]:
        """Run a plan; the gcloud calls it made, and what it printed on stderr."""
        self.log.write_text("")
        path = self.dir / "plan.sh"
        path.write_text(script)
        env = {**os.environ, "PATH": f"{self.bin}:{os.environ['PATH']}",
               "FAKE_STATE": str(self.state), "FAKE_LOG": str(self.log)}
        done = subprocess.run(["bash", str(path)], cwd=self.dir, env=env, capture_output=True,
                              text=True)
        assert done.returncode == 0, done.stderr
        calls = [json.loads(line) for line in self.log.read_text().splitlines()]
        return calls, done.stderr

    @property
    def subscriptions(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = json.loads(self.state.read_text())["subscriptions"]
        return found

    @property
    def functions(self) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = json.loads(self.state.read_text())["functions"]
        return found

    def seed(self, subscriptions: dict[str, dict[str, Any]]) -> None:
        state = json.loads(self.state.read_text())
        state["subscriptions"].update(subscriptions)
        self.state.write_text(json.dumps(state))


def _registry(first: str = "phase2_to_phase3", topic: str = "nba-completions") -> Registry:
    text = REGISTRY.format(first=first, project=PROJECT, region=REGION, topic=topic)
    registry = load_registry_text(text, "r.yaml").registry
    assert registry is not None
    return registry


def _deletes(calls: list[list[str]], kind: str) -> list[str]:
    return [call[3] for call in calls if call[:3] == [kind.split()[0], kind.split()[1], "delete"]]


def test_a_renamed_transition_s_subscription_is_retired_and_its_function_reported(
        tmp_path: Path) -> None:
    cloud = FakeCloud(tmp_path)
    before, after = _registry(), _registry(first="raw_to_analytics")
    old, new = deploy_names(before), deploy_names(after)
    old_function = old.orchestrators["phase2_to_phase3"]
    assert old_function.subscription is not None
    # others' subscriptions: another pipeline (even one whose label starts like ours),
    # one made by hand, and a dead-letter hold: none of them is this plan's to retire
    foreign: dict[str, dict[str, Any]] = {
        "theirs-push": {"topic": "projects/p/topics/t",
                        "labels": {PIPELINE_LABEL: "nba-stats-2", ROLE_LABEL: "push"}},
        "made-by-hand": {"topic": "projects/p/topics/t", "labels": {}},
        "upper-push": {"topic": "projects/p/topics/t",
                       "labels": {PIPELINE_LABEL: "x-nba-stats", ROLE_LABEL: "push"}},
    }
    cloud.seed(foreign)

    cloud.run(render_plan(before, "r.yaml"))
    assert old_function.subscription in cloud.subscriptions
    assert cloud.functions[old_function.name] == {PIPELINE_LABEL: "nba-stats",
                                                  ROLE_LABEL: "orchestrator"}
    assert cloud.subscriptions[old_function.subscription]["labels"] == {
        PIPELINE_LABEL: "nba-stats", ROLE_LABEL: "push"}

    calls, stderr = cloud.run(render_plan(after, "r.yaml"))
    # the dead-letter hold is not a push subscription: never listed, never retired
    current = {f.subscription for f in new.orchestrators.values()} | {new.dead_letter_hold}
    assert _deletes(calls, "pubsub subscriptions") == [old_function.subscription]
    assert set(cloud.subscriptions) == current | set(foreign)
    # the old function is reported, with the command that deletes it, and left alone
    assert f"manual step: function {old_function.name} " in stderr
    assert (f"gcloud functions delete {old_function.name} --gen2 --region={REGION} "
            f"--project={PROJECT}") in " ".join(stderr.split())
    assert _deletes(calls, "functions x") == []
    assert old_function.name in cloud.functions
    for function in [*new.orchestrators.values(), new.canary]:
        assert function.name not in stderr

    # again: idempotent, nothing more to delete
    calls, stderr = cloud.run(render_plan(after, "r.yaml"))
    assert _deletes(calls, "pubsub subscriptions") == []
    assert set(cloud.subscriptions) == current | set(foreign)


def test_a_changed_completion_topic_recreates_the_subscriptions(tmp_path: Path) -> None:
    cloud = FakeCloud(tmp_path)
    before, after = _registry(topic="nba-completions"), _registry(topic="nba-completions-v2")
    cloud.run(render_plan(before, "r.yaml"))
    subscriptions = {f.subscription for f in deploy_names(after).orchestrators.values()
                     if f.subscription}
    assert {cloud.subscriptions[s]["topic"] for s in subscriptions} == {
        f"projects/{PROJECT}/topics/nba-completions"}

    calls, _ = cloud.run(render_plan(after, "r.yaml"))
    assert sorted(_deletes(calls, "pubsub subscriptions")) == sorted(subscriptions)
    assert {cloud.subscriptions[s]["topic"] for s in subscriptions} == {
        f"projects/{PROJECT}/topics/nba-completions-v2"}
    creates = [call for call in calls if call[:3] == ["pubsub", "subscriptions", "create"]
               and any(flag.startswith("--push-endpoint=") for flag in call)]
    assert {call[3] for call in creates} == subscriptions
    assert all("--topic=nba-completions-v2" in call for call in creates)

    calls, _ = cloud.run(render_plan(after, "r.yaml"))  # settled: nothing recreated
    assert _deletes(calls, "pubsub subscriptions") == []
    assert not [call for call in calls if call[:3] == ["pubsub", "subscriptions", "create"]
                and call[3] in subscriptions]


def test_the_rendered_script_compares_the_topic_and_lists_by_label() -> None:
    text = render_plan(_registry(topic="nba-completions-v2"), "r.yaml")
    function = deploy_names(_registry()).orchestrators["phase2_to_phase3"]
    variable = function.url_variable.removesuffix("_URL") + "_TOPIC"
    assert (f"{variable}=\"$(gcloud pubsub subscriptions describe {function.subscription} "
            "--format='value(topic)'") in text
    assert (f'if [ -n "${{{variable}}}" ] && [ "${{{variable}}}" != '
            f"projects/{PROJECT}/topics/nba-completions-v2 ]; then\n"
            f"    gcloud pubsub subscriptions delete {function.subscription} "
            f"--project={PROJECT}\nfi") in text
    # the delete comes before the create-or-update of the same subscription
    assert text.index(f"subscriptions delete {function.subscription}") < text.index(
        f"subscriptions create {function.subscription}")
    assert "--filter='labels.phasegate-pipeline~^nba-stats$ AND labels.phasegate-role~^push$'" \
        in text
    assert "--update-labels=phasegate-pipeline=nba-stats,phasegate-role=orchestrator" in text
    assert "--labels=phasegate-pipeline=nba-stats,phasegate-role=push" in text
    assert "--update-labels=phasegate-pipeline=nba-stats,phasegate-role=push" in text
    assert subprocess.run(["bash", "-n"], input=text, text=True).returncode == 0


def test_a_long_pipeline_name_gives_a_valid_label() -> None:
    registry = load_registry_text(REGISTRY.format(
        first="phase2_to_phase3", project=PROJECT, region=REGION, topic="t-completions")
        .replace("pipeline: NBA stats", "pipeline: " + "Long-pipeline" * 5 + "x" * 5),
        "r.yaml").registry
    assert registry is not None
    label = deploy_names(registry).pipeline_label
    assert len(label) <= 63 < len(registry.pipeline)
    assert label == deploy_names(registry).pipeline_label  # stable
    assert f"{PIPELINE_LABEL}={label}," in render_plan(registry, "r.yaml")


@pytest.fixture(scope="module")
def gcloud() -> str:
    import shutil

    path = shutil.which("gcloud")
    _require(path is not None, "gcloud (the Google Cloud CLI, needed to check the plan)")
    assert path is not None
    return path


def test_the_check_parses_the_retire_and_recreate_commands(gcloud: str) -> None:
    steps = plan_commands(_registry(), "r.yaml")
    new: list[PlanStep] = [step for step in steps
                           if step.for_each or step.when_differs or step.capture_may_fail
                           or step.capture in ("PIPELINE_SUBSCRIPTIONS", "PIPELINE_FUNCTIONS")]
    argvs = [argv for step in new for argv in step.gcloud_commands()]
    verbs = {argv[1:4] for argv in argvs}
    assert {("pubsub", "subscriptions", "list"), ("pubsub", "subscriptions", "delete"),
            ("pubsub", "subscriptions", "describe"), ("functions", "list", "--v2"),
            ("functions", "delete", "${STALE_FUNCTION}")} <= verbs
    result = check_plan(new, gcloud)
    assert result.ok and result.count("parsed") == len(argvs), [
        (c.argv, c.message) for c in result.failures]
    # and a broken filter or format is caught, not only unknown flags
    broken = [PlanStep("bad filter", ("gcloud", "pubsub", "subscriptions", "list",
                                      "--filter=labels.a=(", f"--project={PROJECT}")),
              PlanStep("bad format", ("gcloud", "functions", "list", "--v2",
                                      "--format=value(name.basenam(", f"--project={PROJECT}"))]
    assert [c.outcome for c in check_plan(broken, gcloud).checks] == ["rejected", "rejected"]
