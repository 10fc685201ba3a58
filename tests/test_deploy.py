"""phasegate.deploy: the plan, its check through the real gcloud parser, the resources, the build.

The gcloud tests run the installed Google Cloud CLI in the check's sandbox
(no credentials, loopback only); without gcloud they are skipped, and under
CI=true a missing gcloud is a failure.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from phasegate import __version__
from phasegate.deploy import commands
from phasegate.deploy.build import MARKER, BrokenSource, BuildError, StaleSources, build
from phasegate.deploy.commands import (
    build_command,
    check_resources,
    plan_command,
    plan_loaded_command,
)
from phasegate.deploy.gcloud_check import (
    CREDENTIALS,
    CheckResult,
    CommandCheck,
    GcloudUnusable,
    check_plan,
    classify,
    expression_probe,
    sandbox_environment,
    substituted,
)
from phasegate.deploy.names import FUNCTION_NAME_MAX, PlanError, deploy_names, slug, unique_names
from phasegate.deploy.plan import ACK_DEADLINE_S, ORCHESTRATOR_TIMEOUT_S, plan_commands, render_plan
from phasegate.deploy.requirements import SourceError, imports_of, third_party_imports
from phasegate.deploy.resources import Discovery, check_resource, check_resource_text
from phasegate.deploy.steps import PlanStep, quote, render_step
from phasegate.generation import generate
from phasegate.registry.generate import NO_INPUTS, render_canary_monitoring, render_scheduler
from phasegate.registry.loading import load_registry, load_registry_text
from phasegate.registry.models import Registry
from phasegate.registry.semantics import digest

REPO = Path(__file__).resolve().parent.parent
SOURCE = "registry/processors.yaml"
FUNCTION_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")

OTHER_REGISTRY = """\
version: 1
pipeline: MLB Games
timezone: America/Chicago
processors:
  raw_box: {phase: 1}
  analytics_box: {phase: 2}
  predictions: {phase: 3}
transitions:
  Raw_To_Analytics: {from_phase: 1, to_phase: 2, collection: raw_done}
  analytics_to_predictions:
    from_phase: 2
    to_phase: 3
    collection: analytics_done
    action: trigger
    trigger_topic: mlb-predict
canary:
  schedule: "0 * * * *"
  notify:
    - log: {}
deploy:
  project: mlb-prod-1234
  region: europe-west1
  completion_topic: mlb-completions
  function_service_account: mlb-runner
  push_service_account: pusher@shared-infra.iam.gserviceaccount.com
  max_delivery_attempts: 7
"""


@pytest.fixture(autouse=True)
def _no_metadata_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_GCE_CHECK", "True")


def _require(available: bool, what: str) -> None:
    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} is not installed (CI=true: this is a failure)")
    pytest.skip(f"{what} is not installed")


@pytest.fixture(scope="module")
def gcloud() -> str:
    path = shutil.which("gcloud")
    _require(path is not None, "gcloud (the Google Cloud CLI, needed to check the plan)")
    assert path is not None
    return path


@pytest.fixture(scope="module")
def discovery() -> Discovery:
    from phasegate.deploy.discovery import DiscoveryUnavailable, load_discovery

    try:
        return load_discovery()
    except DiscoveryUnavailable:
        _require(False, "google-api-python-client (its discovery documents)")
        raise


@pytest.fixture(scope="module")
def reference() -> Registry:
    registry = load_registry(REPO / SOURCE, SOURCE).registry
    assert registry is not None
    return registry


@pytest.fixture(scope="module")
def other() -> Registry:
    registry = load_registry_text(OTHER_REGISTRY, "other.yaml").registry
    assert registry is not None
    return registry


@pytest.fixture(scope="module")
def reference_steps(reference: Registry) -> list[PlanStep]:
    return plan_commands(reference, SOURCE)


@pytest.fixture(scope="module")
def reference_check(gcloud: str, reference_steps: list[PlanStep]) -> CheckResult:
    return check_plan(reference_steps, gcloud)


def _gcloud_argvs(steps: list[PlanStep]) -> list[tuple[str, ...]]:
    return [argv for step in steps for argv in step.gcloud_commands()]


def _find(steps: list[PlanStep], *words: str) -> list[PlanStep]:
    """Steps whose command (or create of a create-or-update) starts with these words."""
    return [step for step in steps if step.argv[: len(words)] == words]


def _flag(argv: tuple[str, ...], name: str) -> str:
    values = [token.split("=", 1)[1] for token in argv if token.startswith(f"{name}=")]
    assert len(values) == 1, (name, argv)
    return values[0]


# --- the check through the real gcloud parser -----------------------------------------------

def test_reference_plan_parses_with_the_installed_gcloud(
        reference_check: CheckResult, reference_steps: list[PlanStep]) -> None:
    assert reference_check.ok, [(c.argv, c.message) for c in reference_check.failures]
    assert reference_check.count("parsed") == len(_gcloud_argvs(reference_steps))
    unchecked = [c for c in reference_check.checks if c.outcome == "unchecked"]
    assert [c.argv for c in unchecked if c.argv] == [("phasegate", "deploy", "build", "build")]
    assert len(unchecked) == sum(not step.gcloud for step in reference_steps)


def test_a_broken_command_fails_the_check_with_gcloud_s_message(
        gcloud: str, reference_steps: list[PlanStep]) -> None:
    subscription = next(step for step in _find(reference_steps, "gcloud", "pubsub",
                                               "subscriptions", "create")
                        if any(token.startswith("--ack-deadline=") for token in step.argv))
    misspelt = tuple(token.replace("--ack-deadline=", "--ack-deadlin=")
                     for token in subscription.argv)
    assert misspelt != subscription.argv
    steps = [
        PlanStep("a misspelt flag", misspelt),
        PlanStep("a misspelt command", ("gcloud", "pubsub", "topics", "crate", "t")),
        PlanStep("a bad duration", ("gcloud", "functions", "deploy", "f", "--gen2",
                                    "--region=us-central1", "--timeout=soon")),
        PlanStep("an invalid project id", ("gcloud", "pubsub", "topics", "create", "t",
                                           "--project=Not_A_Project")),
        PlanStep("fine", ("gcloud", "pubsub", "topics", "create", "t", "--project=${PROJECT}")),
    ]
    result = check_plan(steps, gcloud)
    outcomes = {check.description: check for check in result.checks}
    assert not result.ok
    assert outcomes["a misspelt flag"].outcome == "argument-error"
    assert "unrecognized arguments: --ack-deadlin=120" in outcomes["a misspelt flag"].message
    assert outcomes["a misspelt command"].outcome == "argument-error"
    assert "Invalid choice: 'crate'" in outcomes["a misspelt command"].message
    assert outcomes["a bad duration"].outcome == "argument-error"
    assert "argument --timeout" in outcomes["a bad duration"].message
    assert outcomes["an invalid project id"].outcome == "rejected"
    assert "project" in outcomes["an invalid project id"].message
    assert outcomes["fine"].outcome == "parsed"


def test_check_runs_gcloud_without_network_beyond_loopback(
        gcloud: str, reference_steps: list[PlanStep], tmp_path: Path) -> None:
    """Under strace: every socket gcloud connects is loopback (or local), no DNS query at all."""
    strace = shutil.which("strace")
    if strace is None or subprocess.run([strace, "-o", os.devnull, "true"],
                                        capture_output=True).returncode != 0:
        pytest.skip("strace is not available (or ptrace is not permitted) here")
    logs = tmp_path / "traces"
    logs.mkdir()
    wrapper = tmp_path / "gcloud-traced"
    wrapper.write_text(f'#!/bin/sh\nexec {strace} -f -qq -s 256 -e trace=network '
                       f'-o "{logs}/trace.$$" {gcloud} "$@"\n')
    wrapper.chmod(0o755)
    sample = [step for step in reference_steps if step.gcloud][:4] + [
        *_find(reference_steps, "gcloud", "functions", "deploy")[:1],
        *[step for step in reference_steps if step.writes],  # the policy file gcloud reads
        *_find(reference_steps, "gcloud", "alpha", "monitoring", "policies", "create")]
    result = check_plan(sample, str(wrapper))
    assert result.ok and result.count("parsed") == len(_gcloud_argvs(sample))
    traces = list(logs.iterdir())
    probes = [argv for argv in _gcloud_argvs(sample) if expression_probe(argv)]
    assert probes  # --format compiled offline too: those runs are traced as well
    assert len(traces) == len(_gcloud_argvs(sample)) + len(probes) + 1  # and the calibration
    for trace in traces:
        for line in trace.read_text().splitlines():
            assert "metadata" not in line, line  # no lookup of metadata.google.internal
            if "sin_addr" in line or "sin6_addr" in line:
                assert "127.0.0.1" in line or '"::1"' in line, line


def test_missing_gcloud_is_a_usage_error_not_a_pass(
        reference: Registry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no gcloud here
    err = io.StringIO()
    code = plan_command(reference, SOURCE, REPO, project=None, region=None, check=True,
                        out=io.StringIO(), err=err)
    assert code == 2
    assert "gcloud" in err.getvalue()


def test_plan_command_checks_another_registry_end_to_end(
        gcloud: str, discovery: object, other: Registry, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = plan_command(other, "other.yaml", tmp_path, project=None, region=None, check=True,
                        out=out, err=err)
    assert code == 0, err.getvalue()
    assert "0 failed" in err.getvalue()
    assert "not gcloud, not checked: Self-contained function sources" in err.getvalue()
    assert "resources valid" in err.getvalue()
    assert out.getvalue().startswith("#!/usr/bin/env bash\n")


def test_plan_command_fails_on_a_command_gcloud_rejects(
        gcloud: str, discovery: object, reference: Registry,
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(steps: list[PlanStep], gcloud: str = "gcloud") -> CheckResult:
        return check_plan([*steps[:2], PlanStep("broken", ("gcloud", "pubsub", "topics",
                                                           "create", "t", "--bogus"))], gcloud)

    monkeypatch.setattr(commands, "check_plan", broken)
    err = io.StringIO()
    code = plan_command(reference, SOURCE, REPO, project="my-project", region="us-west2",
                        check=True, out=io.StringIO(), err=err)
    assert code == 1
    assert "argument-error: broken" in err.getvalue()
    assert "unrecognized arguments: --bogus" in err.getvalue()


# --- the sandbox and the classification (no gcloud needed) ----------------------------------

def test_a_gcloud_that_accepts_anything_cannot_pass_a_plan(tmp_path: Path) -> None:
    """If gcloud ever authenticated before parsing, every command would look parsed."""
    fake = tmp_path / "gcloud"
    fake.write_text("#!/bin/sh\necho 'ERROR: (gcloud) You do not currently have an active "
                    "account selected.' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(GcloudUnusable, match="did not reject an unknown flag"):
        check_plan([PlanStep("x", ("gcloud", "pubsub", "topics", "create", "t"))], str(fake))


def test_sandbox_environment_holds_no_credentials_and_only_loopback(tmp_path: Path) -> None:
    leaky = {name: "secret" for name in CREDENTIALS}
    leaky.update(PATH="/usr/bin", NO_PROXY="*", HTTPS_PROXY="http://proxy.example:3128",
                 CLOUDSDK_CONFIG="/root/.config/gcloud", HOME="/root",
                 CLOUDSDK_AUTH_ACCESS_TOKEN_FILE="/token", GOOGLE_CLOUD_QUOTA_PROJECT="x")
    env = sandbox_environment(tmp_path, leaky)
    assert not set(CREDENTIALS) & set(env)
    assert not any(key.startswith("CLOUDSDK_AUTH") for key in env)
    assert "NO_PROXY" not in env and "GOOGLE_CLOUD_QUOTA_PROJECT" not in env
    assert env["CLOUDSDK_CONFIG"] == str(tmp_path / "gcloud") and env["HOME"] == str(tmp_path)
    assert env["CLOUDSDK_CORE_CHECK_GCE_METADATA"] == "false" and env["NO_GCE_CHECK"] == "True"
    assert env["PATH"] == "/usr/bin"
    endpoints = [value for key, value in env.items()
                 if "PROXY" in key.upper() or "ENDPOINT" in key or key.startswith("GCE_METADATA")]
    assert endpoints and all("127.0.0.1" in value for value in endpoints)


@pytest.mark.parametrize(("code", "stderr", "outcome"), [
    (1, "ERROR: (gcloud.pubsub.topics.create) You do not currently have an active account "
        "selected.\nPlease run:\n\n  $ gcloud auth login\n", "parsed"),
    (2, "ERROR: (gcloud.pubsub.topics.create) unrecognized arguments: --bogus \n", "argument-error"),
    (2, "ERROR: (gcloud.pubsub.topics) Invalid choice: 'crate'.\n", "argument-error"),
    (2, "ERROR: (gcloud.functions.deploy) argument --timeout: Failed to parse duration\n"
        "Usage: gcloud functions deploy (NAME : --region=REGION) [optional flags]\n",
     "argument-error"),
    (1, "ERROR: (gcloud) The project property must be set to a valid project ID\n", "rejected"),
    (0, "", "parsed"),
])
def test_classify(code: int, stderr: str, outcome: str) -> None:
    assert classify(code, stderr)[0] == outcome


def test_variables_get_sample_values_that_gcloud_accepts() -> None:
    argv = ("gcloud", "x", "--project=${PROJECT}", "--push-endpoint=${NBA_STATS_P_URL}",
            "--member=serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com")
    done = substituted(argv)
    assert done[2] == "--project=phasegate-check"
    assert done[3].startswith("--push-endpoint=https://")
    assert done[4] == "--member=serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com"


# --- the plan's content ---------------------------------------------------------------------

def test_every_transition_gets_a_private_function_a_push_subscription_and_the_invoker_binding(
        reference: Registry, reference_steps: list[PlanStep]) -> None:
    names = deploy_names(reference)
    push = names.push_account.email
    order = {id(step): index for index, step in enumerate(reference_steps)}
    for transition, function in names.orchestrators.items():
        [deploy] = [s for s in _find(reference_steps, "gcloud", "functions", "deploy")
                    if s.argv[3] == function.name]
        argv = deploy.argv
        for token in ("--gen2", "--trigger-http", "--no-allow-unauthenticated",
                      "--entry-point=on_push", "--source=build/orchestrator"):
            assert token in argv
        env = dict(item.split("=", 1) for item in _flag(argv, "--set-env-vars").split(","))
        assert env["PHASEGATE_TRANSITION"] == transition
        assert env["PHASEGATE_REGISTRY_DIGEST"] == digest(reference)
        assert _flag(argv, "--service-account") == names.function_account.email
        timeout = int(_flag(argv, "--timeout").removesuffix("s"))
        assert timeout == ORCHESTRATOR_TIMEOUT_S

        [url] = [s for s in reference_steps if s.capture == function.url_variable]
        assert url.argv[:4] == ("gcloud", "functions", "describe", function.name)
        assert "--format=value(serviceConfig.uri)" in url.argv

        [invoker] = [s for s in _find(reference_steps, "gcloud", "functions",
                                      "add-invoker-policy-binding") if s.argv[3] == function.name]
        assert f"--member=serviceAccount:{push}" in invoker.argv
        assert "run.invoker" in invoker.description

        [subscription] = [s for s in _find(reference_steps, "gcloud", "pubsub", "subscriptions",
                                           "create") if s.argv[4] == function.subscription]
        for variant in (subscription.argv, subscription.update):
            assert variant is not None
            assert _flag(variant, "--push-endpoint") == f"${{{function.url_variable}}}"
            assert _flag(variant, "--push-auth-service-account") == push
            assert _flag(variant, "--dead-letter-topic") == names.dead_letter_topic
            assert _flag(variant, "--max-delivery-attempts") == "10"
            assert int(_flag(variant, "--ack-deadline")) == ACK_DEADLINE_S > timeout
        assert _flag(subscription.argv, "--topic") == names.completion_topic
        assert subscription.unless is not None and "describe" in subscription.unless
        # deployed, then its URL read, then bound and subscribed
        assert order[id(deploy)] < order[id(url)] < order[id(invoker)] < order[id(subscription)]


def test_plan_creates_topics_accounts_and_the_canary_pieces(
        reference: Registry, reference_steps: list[PlanStep]) -> None:
    names = deploy_names(reference)
    created = {step.argv[4] for step in _find(reference_steps, "gcloud", "pubsub", "topics",
                                              "create")}
    assert created == {"nba-stats-completions", "nba-stats-completions-dead", "nba-phase4-trigger"}
    accounts = {step.argv[4] for step in _find(reference_steps, "gcloud", "iam",
                                               "service-accounts", "create")}
    assert accounts == {"phasegate-nba-stats", "phasegate-nba-stats-push"}
    [canary] = [s for s in _find(reference_steps, "gcloud", "functions", "deploy")
                if s.argv[3] == names.canary.name]
    for token in ("--entry-point=canary_http", "--source=build/canary", "--trigger-http",
                  "--no-allow-unauthenticated",
                  "--set-secrets=SLACK_WEBHOOK_URL=SLACK_WEBHOOK_URL:latest"):
        assert token in canary.argv
    [job] = _find(reference_steps, "gcloud", "scheduler", "jobs", "create", "http")
    rendered = json.loads(render_scheduler(reference, SOURCE))
    assert job.argv[5] == rendered["name"].rsplit("/", 1)[-1] == "phasegate-canary-nba-stats"
    assert _flag(job.argv, "--schedule") == reference.canary.schedule
    assert _flag(job.argv, "--time-zone") == reference.timezone
    assert _flag(job.argv, "--uri") == f"${{{names.canary.url_variable}}}"
    assert _flag(job.argv, "--http-method") == "POST"
    assert _flag(job.argv, "--oidc-service-account-email") == names.push_account.email
    monitoring = json.loads(render_canary_monitoring(reference, SOURCE))
    [metric] = _find(reference_steps, "gcloud", "logging", "metrics", "create")
    assert metric.argv[4] == monitoring["log_metric"]["name"]
    assert _flag(metric.argv, "--log-filter") == monitoring["log_metric"]["filter"]
    [write] = [step for step in reference_steps if step.writes]
    [(path, text)] = write.writes
    assert json.loads(text) == monitoring["alert_policy"]
    [policy] = _find(reference_steps, "gcloud", "alpha", "monitoring", "policies", "create")
    assert _flag(policy.argv, "--policy-from-file") == path
    assert reference_steps[0].argv == ("phasegate", "deploy", "build", "build")


def test_rendered_plan_header_and_shell(reference: Registry, tmp_path: Path) -> None:
    text = render_plan(reference, SOURCE)
    lines = text.splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert lines[1] == (f"# Generated from {SOURCE} by phasegate {__version__}; do not edit; "
                        "run `phasegate generate` after changing the registry.")
    assert lines[2] == f"# Registry digest: {digest(reference)}"
    assert "set -euo pipefail" in lines
    assert ': "${PROJECT:?set PROJECT}"' in lines and ': "${REGION:?set REGION}"' in lines
    assert "\nphasegate deploy build build\n" in text
    script = tmp_path / "plan.sh"
    script.write_text(text)
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    fixed = render_plan(reference, SOURCE, project="my-project", region="us-west2")
    assert "${PROJECT}" not in fixed and "${REGION}" not in fixed
    assert "--project=my-project" in fixed and "--region=us-west2" in fixed
    assert render_plan(reference, SOURCE) == text  # deterministic


STUB_GCLOUD = r"""#!/usr/bin/env python3
import os, sys
with open(os.environ["STUB_LOG"], "a") as log:
    log.write("\x1f".join(sys.argv[1:]) + "\x1e")
args = sys.argv[1:]
if args[:2] == ["functions", "describe"]:
    print("https://stub-uc.a.run.app")
elif args[:2] == ["projects", "describe"]:
    print("4242")
elif args[:2] == ["secrets", "describe"]:
    pass
elif "describe" in args:
    sys.exit(1)  # nothing exists yet: every guarded create runs
"""


def _run_with_stubs(text: str, tmp_path: Path) -> list[tuple[str, ...]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("gcloud", STUB_GCLOUD), ("phasegate", STUB_GCLOUD)):
        (bin_dir / name).write_text(body.replace("sys.argv[1:]) +",
                                                 f"[{name!r}] + sys.argv[1:]) +", 1))
        (bin_dir / name).chmod(0o755)
    script = tmp_path / "plan.sh"
    script.write_text(text)
    log = tmp_path / "calls.log"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "STUB_LOG": str(log),
           "PROJECT": "stub-project", "REGION": "us-east4"}
    done = subprocess.run(["bash", str(script)], cwd=tmp_path, env=env, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    return [tuple(call.split("\x1f")) for call in log.read_text().split("\x1e") if call]


def test_the_script_runs_exactly_the_structured_commands(
        reference: Registry, reference_steps: list[PlanStep], tmp_path: Path) -> None:
    """Bash quoting round trip: what the script passes to gcloud is what the check parsed."""
    calls = _run_with_stubs(render_plan(reference, SOURCE), tmp_path)
    values = {"PROJECT": "stub-project", "REGION": "us-east4", "PROJECT_NUMBER": "4242",
              "EXISTING_ALERT_POLICY": ""}

    def expand(argv: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(re.sub(r"\$\{([A-Z_0-9]+)\}", lambda m: values.get(
            m.group(1), "https://stub-uc.a.run.app"), token) for token in argv)

    expected: list[tuple[str, ...]] = []
    for step in reference_steps:
        if step.unless is not None:
            expected.append(expand(step.unless))
        # nothing exists yet: no subscription on another topic, nothing stale to retire
        if step.argv and not (step.when_differs or step.for_each):
            expected.append(expand(step.argv))
    assert calls == expected
    [(path, text)] = [w for step in reference_steps for w in step.writes]
    assert (tmp_path / path).read_text() == text


def test_quote_keeps_plan_variables_and_nothing_else(tmp_path: Path) -> None:
    tokens = ["plain", "--flag=${PROJECT}", "a b", "it's", 'say "hi"', "$HOME", "`id`",
              "${NOT_OURS}", "--x=${PROJECT}-$PATH\\n", "back\\slash", "--filter=a = \"b\""]
    line = " ".join(quote(token, {"PROJECT"}) for token in tokens)
    done = subprocess.run(["bash", "-c", f"printf '%s\\0' {line}"], capture_output=True,
                          text=True, env={"PROJECT": "p-1", "PATH": os.environ["PATH"]})
    expected = [token.replace("${PROJECT}", "p-1") for token in tokens]
    assert done.stdout.split("\0")[:-1] == expected


def test_a_registry_with_other_names_gets_other_names(
        reference: Registry, other: Registry) -> None:
    mine, theirs = deploy_names(reference), deploy_names(other)
    ours = {f.name for f in mine.orchestrators.values()} | {mine.canary.name}
    others = {f.name for f in theirs.orchestrators.values()} | {theirs.canary.name}
    assert not ours & others
    assert theirs.orchestrators["Raw_To_Analytics"].name == "mlb-games-raw-to-analytics"
    assert theirs.canary.name == "mlb-games-canary"
    assert theirs.project == "mlb-prod-1234" and theirs.region == "europe-west1"
    assert theirs.completion_topic == "mlb-completions"
    assert theirs.dead_letter_topic == "mlb-completions-dead"
    assert theirs.function_account.email == "mlb-runner@mlb-prod-1234.iam.gserviceaccount.com"
    assert theirs.push_account.account_id is None  # another project's: checked, not created
    for name in others | ours:
        assert FUNCTION_NAME.match(name) and len(name) <= FUNCTION_NAME_MAX <= 63
    steps = plan_commands(other, "other.yaml")
    text = render_plan(other, "other.yaml")
    assert "nba" not in text and "${PROJECT}" not in text
    [require] = [s for s in steps if s.require]
    assert require.argv[-2] == "pusher@shared-infra.iam.gserviceaccount.com"
    [subscription] = _find(steps, "gcloud", "pubsub", "subscriptions", "create",
                           "mlb-games-raw-to-analytics-push")
    assert _flag(subscription.argv, "--max-delivery-attempts") == "7"
    [canary] = [s for s in _find(steps, "gcloud", "functions", "deploy")
                if s.argv[3] == "mlb-games-canary"]
    assert "--clear-secrets" in canary.argv  # no webhook: nothing left over from before


COLLIDING_REGISTRY = f"""\
version: 1
pipeline: x
timezone: UTC
processors:
  a: {{phase: 1}}
transitions:
  Phase_A: {{from_phase: 1, to_phase: 2, collection: c1}}
  phase_a: {{from_phase: 1, to_phase: 2, collection: c2}}
  canary: {{from_phase: 1, to_phase: 2, collection: c3}}
  {"t" + "_long" * 30}: {{from_phase: 1, to_phase: 2, collection: c4}}
"""


def test_function_names_are_valid_unique_and_stable() -> None:
    registry = load_registry_text(COLLIDING_REGISTRY, "r.yaml").registry
    assert registry is not None
    names = deploy_names(registry)
    functions = [f.name for f in names.orchestrators.values()] + [names.canary.name]
    assert len(set(functions)) == len(functions) == 5
    for name in functions:
        assert FUNCTION_NAME.match(name) and len(name) <= FUNCTION_NAME_MAX, name
    assert deploy_names(registry) == names
    assert slug("NBA Stats_2") == "nba-stats-2" and slug("2x") == "pg-2x"
    pair = unique_names({"a": "same", "b": "same"}, 49)
    assert pair["a"] != pair["b"] and all(n.startswith("same-") for n in pair.values())
    assert unique_names({"a": "same", "c": "other"}, 49)["a"] == "same"


def test_bad_project_or_region_is_a_usage_error(reference: Registry) -> None:
    with pytest.raises(PlanError):
        plan_commands(reference, SOURCE, project="Not A Project")
    err = io.StringIO()
    assert plan_command(reference, SOURCE, REPO, project=None, region="mars", check=False,
                        out=io.StringIO(), err=err) == 2
    assert "region" in err.getvalue()


def test_render_plan_works_as_a_generate_renderer(reference: Registry) -> None:
    from phasegate.generation import renderers

    assert renderers()["deploy-plan"](reference, SOURCE, NO_INPUTS) == render_plan(
        reference, SOURCE)


def test_render_step_shapes() -> None:
    step = PlanStep("probe", ("gcloud", "a", "create"), unless=("gcloud", "a", "describe"),
                    update=("gcloud", "a", "update"))
    text = "\n".join(render_step(step, set()))
    assert "if gcloud a describe >/dev/null 2>&1; then" in text and "else" in text
    capture = "\n".join(render_step(PlanStep("c", ("gcloud", "v"), capture="V"), set()))
    assert capture.startswith('# c\nV="$(gcloud v)"') and ':?' in capture


# --- the resources against the discovery documents ------------------------------------------

def test_generated_resources_are_valid(discovery: Discovery,
                                       reference: Registry) -> None:
    assert check_resources(reference, SOURCE, REPO, discovery) == []
    for kind, render in (("cloud-scheduler", render_scheduler),
                         ("canary-monitoring", render_canary_monitoring)):
        assert check_resource_text(kind, render(reference, SOURCE), discovery, kind) == []


def _scheduler(reference: Registry) -> dict[str, Any]:
    job: dict[str, Any] = json.loads(render_scheduler(reference, SOURCE))
    return job


def test_a_misspelt_field_fails(discovery: Discovery,
                                reference: Registry) -> None:
    job = _scheduler(reference)
    job["schedul"] = job.pop("schedule")
    findings = check_resource("cloud-scheduler", job, discovery, "job")
    by_path = {f.path: f.message for f in findings}
    assert "did you mean 'schedule'" in by_path["$.schedul"]
    assert "required" in by_path["$.schedule"]
    nested = _scheduler(reference)
    nested["httpTarget"]["oidcToken"]["serviceAcountEmail"] = "x"
    [finding] = check_resource("cloud-scheduler", nested, discovery, "job")
    assert finding.path == "$.httpTarget.oidcToken.serviceAcountEmail"


def test_wrong_enum_type_and_format_fail(discovery: Discovery,
                                         reference: Registry) -> None:
    job = _scheduler(reference)
    job["httpTarget"]["httpMethod"] = "POSTT"
    job["attemptDeadline"] = "5m"
    job["retryConfig"]["retryCount"] = "0"
    paths = {f.path for f in check_resource("cloud-scheduler", job, discovery, "job")}
    assert paths == {"$.httpTarget.httpMethod", "$.attemptDeadline", "$.retryConfig.retryCount"}
    monitoring = json.loads(render_canary_monitoring(reference, SOURCE))
    condition = monitoring["alert_policy"]["conditions"][0]
    condition["conditionAbsent"]["aggregations"][0]["perSeriesAligner"] = "ALIGN_COUN"
    monitoring["alert_policy"]["combiner"] = "or"
    monitoring["log_metric"]["createTime"] = "2026-01-01T00:00:00Z"  # output only
    monitoring["logmetric"] = {}
    findings = check_resource("canary-monitoring", monitoring, discovery, "m")
    assert {f.path for f in findings} == {
        "$.alert_policy.conditions[0].conditionAbsent.aggregations[0].perSeriesAligner",
        "$.alert_policy.combiner", "$.log_metric.createTime", "$.logmetric"}


def test_a_broken_resource_file_under_root_fails_the_plan_check(
        discovery: Discovery, reference: Registry, tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    job = _scheduler(reference)
    job["timezone"] = job.pop("timeZone")
    (tmp_path / "deploy" / "canary-scheduler.json").write_text(json.dumps(job))
    findings = check_resources(reference, SOURCE, tmp_path, discovery)
    assert [(f.resource, f.path) for f in findings] == [
        ("deploy/canary-scheduler.json", "$.timezone")]


# --- the build -------------------------------------------------------------------------------

BUILD_REGISTRY = """\
version: 1
pipeline: tiny
timezone: UTC
processors:
  a: {phase: 1}
transitions:
  one_to_two: {from_phase: 1, to_phase: 2, collection: one_done}
generate:
  - {path: orchestrator/expected_processors.py, format: python}
  - {path: canary/expected.json, format: json}
"""


@pytest.fixture
def pipeline_root(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "repo"
    for folder in ("registry", "orchestrator", "canary"):
        (root / folder).mkdir(parents=True)
    (root / "registry" / "processors.yaml").write_text(BUILD_REGISTRY)
    for folder in ("orchestrator", "canary"):
        shutil.copyfile(REPO / folder / "main.py", root / folder / "main.py")
        (root / folder / "__pycache__").mkdir()
        (root / folder / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0")
    (root / "orchestrator" / "requirements.txt").write_text(
        f"phasegate[gcp]=={__version__}\nrequests>=2.30  # the pipeline's own\n")
    assert generate(root / "registry" / "processors.yaml", root, check=False,
                    out=io.StringIO(), err=io.StringIO(), shown=SOURCE) == 0
    yield root


def test_build_writes_self_contained_folders(pipeline_root: Path, tmp_path: Path) -> None:
    from tests.emulators import require_gcp

    require_gcp()  # the Google clients and functions-framework
    out = pipeline_root / "build"
    written = build(pipeline_root, pipeline_root / "registry" / "processors.yaml", out)
    for folder in ("orchestrator", "canary"):
        assert f"{folder}/main.py" in written
        assert f"{folder}/phasegate/runtime.py" in written
        assert (out / folder / MARKER).is_file()
        assert not list((out / folder).rglob("__pycache__"))
        requirements = (out / folder / "requirements.txt").read_text()
        lines = [line for line in requirements.splitlines() if not line.startswith("#")]
        assert not any(line.lower().startswith("phasegate") for line in lines)
        for name in ("google-cloud-firestore", "google-cloud-pubsub", "functions-framework"):
            assert any(line.startswith(name) for line in lines), (name, lines)
    assert "orchestrator/expected_processors.py" in written
    assert "canary/expected.json" in written
    assert "requests>=2.30" in (out / "orchestrator" / "requirements.txt").read_text()
    # the vendored phasegate is the one imported, and main.py binds at import time
    for folder, env in (("orchestrator", {"PHASEGATE_TRANSITION": "one_to_two"}),
                        ("canary", {})):
        done = subprocess.run(
            [sys.executable, "-c", "import main, phasegate; print(phasegate.__file__)"],
            cwd=out / folder, capture_output=True, text=True,
            env={**os.environ, **env, "PYTHONPATH": "", "PYTHONDONTWRITEBYTECODE": "1"})
        assert done.returncode == 0, done.stderr
        assert Path(done.stdout.strip()).resolve().is_relative_to((out / folder).resolve())
    # building again replaces what the last build wrote
    assert build(pipeline_root, pipeline_root / "registry" / "processors.yaml", out) == written


@pytest.mark.parametrize("where", [".", "orchestrator", "orchestrator/build", "canary/x/y"])
def test_build_refuses_to_write_into_the_sources(pipeline_root: Path, where: str) -> None:
    before = sorted(p.relative_to(pipeline_root) for p in pipeline_root.rglob("*"))
    with pytest.raises(BuildError, match="root|source folder"):
        build(pipeline_root, pipeline_root / "registry" / "processors.yaml",
              pipeline_root / where)
    assert sorted(p.relative_to(pipeline_root) for p in pipeline_root.rglob("*")) == before
    err = io.StringIO()
    assert build_command(pipeline_root, pipeline_root / "registry" / "processors.yaml",
                         pipeline_root / where, err) == 2


def test_build_never_follows_a_symlink_out_of_the_root(pipeline_root: Path,
                                                       tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not ship")
    (pipeline_root / "canary" / "leak.txt").symlink_to(secret)
    with pytest.raises(BuildError, match="outside the root"):
        build(pipeline_root, pipeline_root / "registry" / "processors.yaml", tmp_path / "out")
    assert not (tmp_path / "out" / "canary").exists()


def test_build_refuses_stale_sources_and_foreign_folders(pipeline_root: Path,
                                                         tmp_path: Path) -> None:
    registry = pipeline_root / "registry" / "processors.yaml"
    foreign = tmp_path / "out" / "orchestrator"
    foreign.mkdir(parents=True)
    (foreign / "keep.txt").write_text("mine")
    with pytest.raises(BuildError, match="not written by"):
        build(pipeline_root, registry, tmp_path / "out")
    assert (foreign / "keep.txt").read_text() == "mine"
    expected = pipeline_root / "canary" / "expected.json"
    expected.write_text(expected.read_text().replace('"UTC"', '"Europe/Paris"'))
    with pytest.raises(StaleSources, match="canary/expected.json is stale"):
        build(pipeline_root, registry, tmp_path / "elsewhere")
    err = io.StringIO()
    assert build_command(pipeline_root, registry, tmp_path / "elsewhere", err) == 1
    assert "phasegate generate" in err.getvalue()


def test_requirements_come_from_the_code_that_runs(tmp_path: Path) -> None:
    code = textwrap.dedent("""\
        from typing import TYPE_CHECKING
        import json
        import expected_processors
        from google.cloud import firestore
        if TYPE_CHECKING:
            import pydantic
        try:
            import ujson
        except ImportError:
            ujson = None
        def later():
            import requests
    """)
    assert {"json", "google.cloud", "google.cloud.firestore", "requests"} <= imports_of(code)
    assert "pydantic" not in imports_of(code) and "ujson" not in imports_of(code)
    found = third_party_imports([code], REPO / "phasegate", local={"expected_processors"})
    assert found == {"google.cloud", "google.cloud.firestore", "requests"}


BROKEN_SOURCES = [
    ("orchestrator/main.py", "def broken(:\n", "orchestrator/main.py:1: cannot parse"),
    ("canary/helpers.py", "import json\n\nx = = 1\n", "canary/helpers.py:3: cannot parse"),
    ("orchestrator/util.py", b"x = '\xff'\n", "orchestrator/util.py: not UTF-8 text"),
    ("canary/nul.py", "x = 1\0\n", "canary/nul.py"),
]


@pytest.mark.parametrize(("path", "text", "where"), BROKEN_SOURCES)
def test_build_names_a_python_file_that_does_not_parse(
        pipeline_root: Path, tmp_path: Path, path: str, text: str | bytes, where: str) -> None:
    target = pipeline_root / path
    if isinstance(text, bytes):
        target.write_bytes(text)
    else:
        target.write_text(text)
    registry = pipeline_root / "registry" / "processors.yaml"
    with pytest.raises(BrokenSource) as caught:
        build(pipeline_root, registry, tmp_path / "out")
    assert str(caught.value).startswith(where)
    assert not (tmp_path / "out").exists()  # refused before anything was written
    err = io.StringIO()
    assert build_command(pipeline_root, registry, tmp_path / "out", err) == 1
    assert where in err.getvalue()


def test_build_command_line_names_the_broken_file_without_a_traceback(
        pipeline_root: Path, tmp_path: Path) -> None:
    from tests.conftest import run_phasegate

    (pipeline_root / "orchestrator" / "main.py").write_text("import json\nif True\n    pass\n")
    result = run_phasegate("deploy", "build", str(tmp_path / "out"), "--root",
                           str(pipeline_root), "--registry",
                           str(pipeline_root / "registry" / "processors.yaml"))
    assert result.returncode == 1
    assert "orchestrator/main.py:2: cannot parse" in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert "<unknown>" not in result.stderr and result.stdout == ""


def test_a_vendored_module_that_does_not_parse_is_named(tmp_path: Path) -> None:
    package = tmp_path / "phasegate"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "sub" / "broken.py").write_text("import json\ndef f(:\n")
    with pytest.raises(SourceError, match=r"^phasegate/sub/broken\.py:2: cannot parse"):
        third_party_imports({"orchestrator/main.py": "import phasegate.sub.broken\n"}, package)
    with pytest.raises(SourceError, match=r"^orchestrator/main\.py:1: cannot parse"):
        third_party_imports({"orchestrator/main.py": "import (\n"}, package)


# --- stdout holds the script and nothing else ------------------------------------------------

def test_plan_writes_the_whole_script_and_nothing_else_to_stdout(
        reference: Registry, capfd: pytest.CaptureFixture[str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert plan_command(reference, SOURCE, REPO, project=None, region=None, check=False,
                        out=out, err=err) == 0
    assert out.getvalue() == render_plan(reference, SOURCE)
    assert capfd.readouterr().out == ""  # nothing printed around `out`, not even by children


def _failed_check(steps: list[PlanStep], gcloud: str = "gcloud") -> CheckResult:
    return CheckResult((CommandCheck("broken", ("gcloud", "x"), "argument-error",
                                     "ERROR: (gcloud) unrecognized arguments: --x"),), 0.1)


def test_a_failed_check_writes_no_script(
        discovery: Discovery, reference: Registry, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """`phasegate deploy plan --check | bash` must not deploy a plan the check failed."""
    monkeypatch.setattr(commands, "check_plan", _failed_check)
    out, err = io.StringIO(), io.StringIO()
    assert plan_command(reference, SOURCE, tmp_path, project=None, region=None, check=True,
                        out=out, err=err) == 1
    assert out.getvalue() == ""
    assert "argument-error: broken" in err.getvalue() and "no plan written" in err.getvalue()
    monkeypatch.setattr(commands, "check_plan",
                        lambda steps, gcloud="gcloud": CheckResult((), 0.1))
    out = io.StringIO()
    assert plan_command(reference, SOURCE, tmp_path, project=None, region=None, check=True,
                        out=out, err=io.StringIO()) == 0
    assert out.getvalue() == render_plan(reference, SOURCE)
    assert capfd.readouterr().out == ""


def test_no_script_when_the_plan_or_its_check_cannot_be_made(
        reference: Registry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    assert plan_command(reference, SOURCE, REPO, project="Bad Project", region=None,
                        check=False, out=out, err=err) == 2
    assert out.getvalue() == "" and "project" in err.getvalue()
    monkeypatch.setenv("PATH", str(tmp_path))  # no gcloud: the check cannot run
    out = io.StringIO()
    assert plan_command(reference, SOURCE, REPO, project=None, region=None, check=True,
                        out=out, err=io.StringIO()) == 2
    assert out.getvalue() == ""


def test_a_registry_with_errors_gets_its_findings_on_stderr(tmp_path: Path) -> None:
    loaded = load_registry_text("version: 1\npipeline: x\ntimezone: UTC\n"
                                "processors:\n  p2_a: {phase: two}\n", "r.yaml")
    assert loaded.registry is None
    out, err = io.StringIO(), io.StringIO()
    assert plan_loaded_command(loaded, tmp_path, project=None, region=None, check=False,
                               out=out, err=err) == 1
    assert out.getvalue() == ""
    assert "PG003" in err.getvalue() and "no plan written" in err.getvalue()


# --- targets: Pub/Sub topics to create, HTTP URLs from the deployer's shell -----------------

TARGETS_REGISTRY = """\
version: 1
pipeline: demo
timezone: UTC
processors:
  p2_a: {phase: 2}
  p3_a: {phase: 3}
  p4_a: {phase: 4}
  p5_a: {phase: 5}
transitions:
  t23:
    from_phase: 2
    to_phase: 3
    collection: c23
    action: trigger
    target:
      http:
        url_env: PREDICTION_COORDINATOR_URL
        audience_env: PREDICTION_COORDINATOR_AUDIENCE
        message: {game_date: "{run_key}"}
  t34:
    from_phase: 3
    to_phase: 4
    collection: c34
    action: trigger
    target: {pubsub: {topic: phase4-go, message: {d: "{run_key}"}, each: completed}}
  t45:
    from_phase: 4
    to_phase: 5
    collection: c45
    action: trigger
    target: {pubsub: {topic: phase5-go}}
  t56:
    from_phase: 5
    to_phase: 6
    collection: c56
    action: trigger
    target: {http: {url_env: SCORING_URL}}
deploy: {project: demo-project-1, region: us-west2}
"""


def _targets_registry(text: str = TARGETS_REGISTRY) -> Registry:
    loaded = load_registry_text(text, "targets.yaml")
    assert loaded.registry is not None, loaded.problems
    return loaded.registry


def _orchestrator_deploy(steps: list[PlanStep], transition: str) -> tuple[str, ...]:
    [step] = [s for s in steps if s.description.startswith(f"Orchestrator for {transition}:")]
    return step.argv


def test_pubsub_target_topics_are_created_and_publishable() -> None:
    steps = plan_commands(_targets_registry(), "targets.yaml")
    created = [step.argv[4] for step in _find(steps, "gcloud", "pubsub", "topics", "create")]
    assert created == ["demo-completions", "demo-completions-dead", "phase4-go", "phase5-go"]
    bound = [step.argv[4] for step in _find(steps, "gcloud", "pubsub", "topics",
                                              "add-iam-policy-binding")]
    assert {"phase4-go", "phase5-go"} <= set(bound)


def test_http_target_variables_reach_only_their_orchestrator() -> None:
    steps = plan_commands(_targets_registry(), "targets.yaml")
    env = _flag(_orchestrator_deploy(steps, "t23"), "--set-env-vars")
    assert env.endswith(",PREDICTION_COORDINATOR_URL=${PREDICTION_COORDINATOR_URL},"
                        "PREDICTION_COORDINATOR_AUDIENCE=${PREDICTION_COORDINATOR_AUDIENCE}")
    assert _flag(_orchestrator_deploy(steps, "t56"), "--set-env-vars").endswith(
        ",SCORING_URL=${SCORING_URL}")
    for transition in ("t34", "t45"):
        assert "_URL" not in _flag(_orchestrator_deploy(steps, transition), "--set-env-vars")


def test_the_canary_gets_every_http_target_variable() -> None:
    """The canary fires a tier that comes due with no new message, so it POSTs too."""
    steps = plan_commands(_targets_registry(), "targets.yaml")
    [canary] = [s for s in steps if s.description.startswith("The canary: private")]
    env = _flag(canary.argv, "--set-env-vars")
    for name in ("PREDICTION_COORDINATOR_URL", "PREDICTION_COORDINATOR_AUDIENCE", "SCORING_URL"):
        assert f"{name}=${{{name}}}" in env


def test_http_target_variables_are_guarded_and_expanded_by_the_script(tmp_path: Path) -> None:
    text = render_plan(_targets_registry(), "targets.yaml")
    lines = text.splitlines()
    for variable, what in (("PREDICTION_COORDINATOR_URL", "the target URL"),
                           ("PREDICTION_COORDINATOR_AUDIENCE",
                            "the audience of the ID token for the target"),
                           ("SCORING_URL", "the target URL")):
        guard = f': "${{{variable}:?set {variable} to {what}}}"'
        assert guard in lines
        build = next(i for i, line in enumerate(lines) if line.startswith("phasegate deploy"))
        assert lines.index(guard) < build
    assert ',PREDICTION_COORDINATOR_URL=${PREDICTION_COORDINATOR_URL},' in text
    script = tmp_path / "plan.sh"
    script.write_text(text)
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0


def _run_targets_plan(tmp_path: Path, **variables: str) -> tuple[subprocess.CompletedProcess[str],
                                                                  list[tuple[str, ...]]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("gcloud", "phasegate"):
        (bin_dir / name).write_text(STUB_GCLOUD.replace(
            "sys.argv[1:]) +", f"[{name!r}] + sys.argv[1:]) +", 1))
        (bin_dir / name).chmod(0o755)
    script = tmp_path / "plan.sh"
    script.write_text(render_plan(_targets_registry(), "targets.yaml"))
    log = tmp_path / "calls.log"
    log.write_text("")
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "STUB_LOG": str(log), **variables}
    done = subprocess.run(["bash", str(script)], cwd=tmp_path, env=env, capture_output=True,
                          text=True)
    calls = [tuple(call.split("\x1f")) for call in log.read_text().split("\x1e") if call]
    return done, calls


def test_the_script_passes_the_deployers_urls_and_stops_without_them(tmp_path: Path) -> None:
    url = "https://coordinator-abc-uw.a.run.app/start?x=1"
    values = {"PREDICTION_COORDINATOR_URL": url,
              "PREDICTION_COORDINATOR_AUDIENCE": "https://coordinator-abc-uw.a.run.app",
              "SCORING_URL": "https://scoring.example/run"}
    done, calls = _run_targets_plan(tmp_path / "ok", **values)
    assert done.returncode == 0, done.stderr
    [deploy] = [c for c in calls if c[:3] == ("gcloud", "functions", "deploy")
                and c[3] == "demo-t23"]
    assert _flag(deploy, "--set-env-vars").endswith(
        f",PREDICTION_COORDINATOR_URL={url},"
        "PREDICTION_COORDINATOR_AUDIENCE=https://coordinator-abc-uw.a.run.app")

    missing = dict(values)
    del missing["SCORING_URL"]
    done, calls = _run_targets_plan(tmp_path / "missing", **missing)
    assert done.returncode != 0 and calls == []
    assert "set SCORING_URL to the target URL" in done.stderr

    done, calls = _run_targets_plan(tmp_path / "comma", **{**values, "SCORING_URL": "https://a,b"})
    assert done.returncode != 0 and calls == []
    assert "SCORING_URL holds a comma" in done.stderr


@pytest.mark.parametrize("name", ["PROJECT", "REGION", "PROJECT_NUMBER", "PHASEGATE_TRANSITION",
                                  "GOOGLE_CLOUD_PROJECT", "K_SERVICE", "PORT", "PATH", "HOME",
                                  "BASH_ENV", "EXISTING_ALERT_POLICY", "DEMO_T34_URL"])
def test_a_target_variable_the_plan_or_shell_sets_is_refused(name: str) -> None:
    registry = _targets_registry(TARGETS_REGISTRY.replace("url_env: SCORING_URL",
                                                          f"url_env: {name}"))
    with pytest.raises(PlanError, match=name):
        plan_commands(registry, "targets.yaml")


def test_a_monitor_transition_passes_no_target_variables() -> None:
    registry = _targets_registry(TARGETS_REGISTRY.replace(
        "    collection: c56\n    action: trigger\n", "    collection: c56\n    action: monitor\n"))
    steps = plan_commands(registry, "targets.yaml")
    assert "SCORING_URL" not in _flag(_orchestrator_deploy(steps, "t56"), "--set-env-vars")
    assert "SCORING_URL" not in render_plan(registry, "targets.yaml")


def test_an_http_target_orchestrator_parses_with_the_installed_gcloud(gcloud: str) -> None:
    steps = plan_commands(_targets_registry(), "targets.yaml")
    step = next(s for s in steps if s.description.startswith("Orchestrator for t23:"))
    result = check_plan([step], gcloud)
    assert result.ok and result.count("parsed") == 1, [c.message for c in result.failures]
